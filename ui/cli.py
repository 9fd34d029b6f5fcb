"""The `sanad` command line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from archive.archive import Archive, default_root
from archive.errors import EXIT_FILES_FAILED as EXIT_FAILED
from archive.errors import (EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, IndexDamaged, InternalError, NotFound,
                            SanadError)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except SanadError as exc:
        print(f"sanad: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sanad: interrupted; run the same command again to continue where it stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `sanad list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug: logged in full, reported in one line
        return _internal_error(args, exc)


def _internal_error(args, exc: Exception) -> int:
    from ingest.failures import LOG_NAME, log_traceback

    root = args.archive or default_root()
    log = Path(root) / LOG_NAME
    if Path(root).is_dir() and log_traceback(log, exc, " ".join(sys.argv[1:])):
        where = f"traceback in {log}"
    else:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        where = "traceback above"
    error = InternalError(f"Sanad failed unexpectedly ({type(exc).__name__}: {exc}); {where}")
    print(f"sanad: {error}", file=sys.stderr)
    return error.exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sanad", description="A Persian/English document archive with OCR and search.")
    parser.add_argument("--archive", type=Path, default=None, metavar="DIR",
                        help=f"archive folder (default: $SANAD_ARCHIVE, else ./{default_root().name})")
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser("ingest", help="add files and folders to the archive")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--source", help="where the files came from (provenance note)")
    p.add_argument("--tag", action="append", default=[], help="a tag for every file (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="pages processed at once (default: one per core)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per input file, and per file inside a ZIP")
    p.add_argument("--min-free", type=float, default=None, metavar="MB",
                   help="refuse to start with less free space than this on the archive's disk"
                        " (default: $SANAD_MIN_FREE_MB, else 200)")
    p.add_argument("--collection", help="team mode: the collection the documents join (default: \"default\")")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="OCR the pages on the cluster whose scheduler is at ADDRESS (default: $SANAD_CLUSTER;"
                        " without one, on this computer)")
    _tls_flags(p)
    p.set_defaults(run=cmd_ingest)

    p = sub.add_parser("scheduler", help="run the scheduler of a cluster that OCRs pages on several machines")
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs TLS or --insecure)")
    p.add_argument("--port", type=int, default=8786)
    p.add_argument("--insecure", action="store_true",
                   help="listen beyond this computer without TLS (only on a network you trust)")
    p.add_argument("--allowed-failures", type=int, default=3,
                   help="workers a page may kill before it is recorded as failed (default 3)")
    _tls_flags(p)
    p.set_defaults(run=cmd_scheduler)

    p = sub.add_parser("worker", help="read pages for the cluster whose scheduler is at ADDRESS")
    p.add_argument("address", metavar="ADDRESS")
    p.add_argument("--jobs", type=int, default=None, help="pages read at once (default: one per core)")
    p.add_argument("--memory-limit", default="auto",
                   help="memory per job, e.g. 2GiB; a job over it is restarted (default: the machine's / jobs)")
    p.add_argument("--name", default=None, help="the name the scheduler shows for this machine")
    p.add_argument("--test-hooks", action="store_true", help=argparse.SUPPRESS)  # tests only: cluster_hooks
    p.add_argument("--test-version", default=None, help=argparse.SUPPRESS)  # tests only, with --test-hooks
    _tls_flags(p)
    p.set_defaults(run=cmd_worker)

    p = sub.add_parser("search", help="search the archive")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    p.add_argument("--no-expand", dest="expand", action="store_false",
                   help="search only the words as typed: no translations, transliterated names or amount spellings")
    p.add_argument("--json", action="store_true", help="one JSON object per hit")
    p.add_argument("--as", dest="as_user", metavar="USER",
                   help="team mode: search only what this account may read, as it would")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("show", help="show a document's metadata and text")
    p.add_argument("document_id")
    p.add_argument("--page", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--as", dest="as_user", metavar="USER",
                   help="team mode: only if this account may read it (another collection's is \"no document\")")
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("list", help="list the documents in the archive")
    p.add_argument("--json", action="store_true")
    p.add_argument("--as", dest="as_user", metavar="USER",
                   help="team mode: only the documents this account may read")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("ocr", help="extract a file's text with the archive's settings, without storing it")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per page")
    p.set_defaults(run=cmd_ocr)

    p = sub.add_parser("verify", help="re-hash every original and check the index against the catalog")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("reindex", help="rebuild the search index from the catalog")
    p.set_defaults(run=cmd_reindex)

    p = sub.add_parser("settings", help="every setting, its value and where the value came from")
    p.add_argument("--json", action="store_true", help="one JSON object per setting")
    p.add_argument("--markdown", action="store_true", help="the table of settings and defaults, as in the README")
    p.set_defaults(run=cmd_settings)

    p = sub.add_parser("ui", help="start the web workbench")
    p.add_argument("--port", type=int, default=None, help="port (default: the port setting, 8501)")
    p.add_argument("--address", default=None,
                   help="address to listen on (default: the address setting, 127.0.0.1: only this computer "
                        "can connect)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name browsers use to reach the workbench, besides localhost and the address "
                        "(repeatable; needed with --address 0.0.0.0; *.example.org for a domain's hosts)")
    p.add_argument("--team", action="store_true",
                   help="team mode with local accounts (as the setting auth = \"local\"): everyone logs in")
    p.set_defaults(run=cmd_ui)

    from ui import team_cli

    team_cli.add_parsers(sub, _archive)
    return parser


def _tls_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls-ca-file", metavar="FILE", help="the CA that signed every cluster certificate"
                   " (default: $SANAD_TLS_CA_FILE)")
    p.add_argument("--tls-cert", metavar="FILE", help="this machine's certificate (default: $SANAD_TLS_CERT)")
    p.add_argument("--tls-key", metavar="FILE", help="its private key (default: $SANAD_TLS_KEY)")


def _archive(args) -> Archive:
    return Archive(args.archive)


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


# -- ingest ----------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    from ingest.pipeline import Ingestor, cluster_address
    from ui.progress import Progress

    archive = _archive(args)
    counts: Counter = Counter()
    progress = Progress(enabled=not args.json and sys.stderr.isatty())

    def on_file(result, joined: bool | None = None) -> None:
        counts[result.status] += 1
        progress.file_done()
        if args.json:
            # "joined": the document is new to the collection, even when its bytes were in the
            # archive already (the workbench tells the uploader no more than that: see README)
            _emit(result.to_json() | ({"joined": joined} if joined is not None else {}))
        else:
            line = f"{result.status:9} {result.pages:4} p  {result.path}"
            if result.error:
                line += f"\n          {result.error}"
            progress.write(line)

    # Team mode: each document joins the collection as its result comes in (before the batch's
    # index flush writes its pages, so they are indexed with it); a duplicate joins it as well.
    from archive import collections

    collection = collections.require(archive.catalog, args.collection or collections.DEFAULT)
    actor = _actor()

    def joined(result) -> None:
        added = None
        if result.document_id:
            added = collections.add_document(archive.catalog, result.document_id, collection, actor=actor)
        on_file(result, added)

    executor = None
    address = cluster_address(args.cluster, archive.root)
    if address:
        from ingest.cluster import DaskExecutor

        executor = DaskExecutor(address, ca_file=args.tls_ca_file, cert=args.tls_cert, key=args.tls_key)
    ingestor = Ingestor(archive, jobs=args.jobs, executor=executor)
    try:
        ingestor.ingest(args.paths, source=args.source, tags=args.tag, on_file=joined, on_page=progress.page,
                        min_free_mb=args.min_free)
        ingestor.catch_up_index()  # duplicates that joined the collection after their pages were indexed
    finally:
        progress.close()
    if not args.json:
        total = sum(counts.values())
        print(f"{total} files: {counts['ingested']} ingested, {counts['duplicate']} duplicates,"
              f" {counts['failed']} failed, {counts['skipped']} skipped", file=sys.stderr)
    if ingestor.internal_errors:
        print(f"sanad: {InternalError(f'{ingestor.internal_errors} file(s) failed because of a bug in Sanad,'
                                      f' not in the files; tracebacks in {ingestor.log}')}", file=sys.stderr)
        return InternalError.exit_code
    return EXIT_FAILED if counts["failed"] else EXIT_OK


# -- cluster ---------------------------------------------------------------------------------

def cmd_scheduler(args) -> int:
    from ingest import cluster

    tls = cluster.Tls.from_args(args.tls_ca_file, args.tls_cert, args.tls_key)
    try:
        cluster.serve_scheduler(args.address, args.port, tls, insecure=args.insecure,
                                allowed_failures=args.allowed_failures)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_worker(args) -> int:
    from ingest import cluster

    tls = cluster.Tls.from_args(args.tls_ca_file, args.tls_cert, args.tls_key)
    try:
        cluster.serve_worker(args.address, args.jobs or os.cpu_count() or 1, tls, memory_limit=args.memory_limit,
                             name=args.name, test_hooks=args.test_hooks, test_version=args.test_version)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


# -- search ----------------------------------------------------------------------------------

def cmd_search(args) -> int:
    from search.index import SearchIndex, damage_detail

    archive = _archive(args)
    index = SearchIndex(archive.index_dir, archive.catalog, notify=_notice)
    try:
        if not index.current:
            print("sanad: building the search index from the catalog first …", file=sys.stderr)
            index.rebuild(archive.catalog)
    except IndexDamaged as exc:  # not a folder, or its table of contents gone
        _notice(f"the search index is damaged; rebuilding from the catalog ({damage_detail(exc)})")
        index.rebuild(archive.catalog)
    readable = None
    if args.as_user:
        from archive import audit

        readable = _access_as(archive, args.as_user).readable
        audit.record(archive.catalog, _actor(), "search", None, {"query": args.query, "as": args.as_user})
    results = index.search(args.query, limit=max(1, args.limit), sort=args.sort, expand=args.expand,
                           readable=readable)
    if args.json:
        for hit in results.hits:
            _emit({"document_id": hit.document_id, "filename": hit.filename, "title": hit.title,
                   "page": hit.page, "score": hit.score, "snippet": hit.snippet, "tier": hit.tier,
                   "matched": [{"term": m.term, "kind": m.kind} for m in hit.matched],
                   "phrases": [{"words": p.term, "kind": p.kind} for p in hit.phrases],
                   "marks": [{"start": s, "end": e, "kind": k}
                             for (s, e), k in zip(hit.spans, hit.span_kinds)]})
        return EXIT_OK
    for e in results.expansions:
        print(f"also searched: {e.text} -> {', '.join(e.added)} ({e.kind})", file=sys.stderr)
    if not results.hits:
        print("No pages match.")
        return EXIT_OK
    print(f"{results.total_text} pages match; best {len(results.hits)} in {results.documents} documents:\n")
    for group in results.by_document():
        first = group[0]
        print(f"{first.document_id[:12]}  {first.title or first.filename}")
        for hit in group:
            print(f"    page {hit.page:<4} {hit.score:7.2f}  {_mark(hit.snippet, hit.spans)}")
            print(f"                      {_why(hit)}")
        print()
    return EXIT_OK


def _why(hit) -> str:
    """How a hit matched, in the order of MATCH_KINDS: the words as typed first, feedback last
    (a page below the first tier holds none of the words as typed)."""
    from archive.models import MATCH_KINDS
    from ui.matches import grouped

    by_kind: dict[str, list[str]] = {}
    for term, kind in grouped(hit.matched, hit.phrases):  # a phrase once, not word by word
        by_kind.setdefault(kind, []).append(term)
    parts = [f"{kind}: {', '.join(dict.fromkeys(by_kind[kind]))}" for kind in MATCH_KINDS if kind in by_kind]
    tier = "" if hit.tier == 0 else "only through alternatives; "
    return f"matched {tier}{'; '.join(parts) or 'filters only'}"


def _mark(snippet: str, spans: list[tuple[int, int]]) -> str:
    """Bold the matches on a terminal; bracket them otherwise."""
    on, off = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("[", "]")
    out, last = [], 0
    for start, end in spans:
        out += [snippet[last:start], on, snippet[start:end], off]
        last = end
    out.append(snippet[last:])
    return "".join(out)


# -- show / list -------------------------------------------------------------------------------

def _access_as(archive: Archive, user: str):
    """What the account ``user`` may read (`--as USER`): an admin checking what a member sees."""
    from archive import accounts, collections

    if accounts.get_user(archive.catalog, user) is None:
        raise NotFound(f"no user {user!r}; `sanad users list` shows them")
    return collections.access_for(archive.catalog, user)


def _readable_ids(archive: Archive, user: str | None) -> set[str] | None:
    from archive import collections

    return None if not user else collections.readable_ids(archive.catalog, _access_as(archive, user))


def _find(archive: Archive, doc_id: str, readable: set[str] | None = None):
    """The document an id prefix names; with ``readable``, one outside it is as missing."""
    matches = archive.catalog.find_documents(doc_id) if len(doc_id) >= 4 else []
    matches = [d for d in matches if readable is None or d.id in readable]
    if not matches:
        raise NotFound(f"no document with id {doc_id!r}; `sanad list` shows them")
    if len(matches) > 1:
        raise SanadError(f"{doc_id!r} matches {len(matches)} documents; type more of the id")
    return matches[0]


def _doc_json(doc) -> dict:
    return {"document_id": doc.id, "filename": doc.filename, "filenames": doc.filenames,
            "title": doc.title, "media_type": doc.media_type, "size": doc.size, "pages": doc.page_count,
            "source": doc.source, "tags": doc.tags, "languages": doc.languages, "status": doc.status,
            "error": doc.error, "added_at": doc.added_at}


def cmd_show(args) -> int:
    archive = _archive(args)
    doc = _find(archive, args.document_id, _readable_ids(archive, args.as_user))
    if args.as_user:
        from archive import audit

        audit.record(archive.catalog, _actor(), "view", doc.id, {"as": args.as_user})
    pages = archive.catalog.pages(doc.id)
    if args.page is not None:
        pages = [p for p in pages if p.number == args.page]
        if not pages:
            raise NotFound(f"the document has {doc.page_count} pages; there is no page {args.page}")
    if args.json:
        _emit(_doc_json(doc) | {"sha256": doc.id, "original": str(archive.original_path(doc.id)),
                                "receipts": [r.__dict__ for r in archive.catalog.receipts(doc.id)],
                                "page_texts": [{"page": p.number, "text": p.text, "method": p.method,
                                                "lang": p.lang, "confidence": p.confidence,
                                                "encoding": p.encoding, "nuls_removed": p.nuls_removed,
                                                "possibly_incomplete": p.possibly_incomplete,
                                                "unread_lines": p.unread_lines,
                                                "status": p.status, "error": p.error} for p in pages]})
        return EXIT_OK
    print(f"Document  {doc.id}")
    print(f"File      {', '.join(doc.filenames) or doc.filename}  ({doc.media_type}, {doc.size:,} bytes)")
    for label, value in (("Title", doc.title), ("Source", doc.source), ("Tags", ", ".join(doc.tags)),
                         ("Languages", ", ".join(doc.languages))):
        if value:
            print(f"{label:10}{value}")
    print(f"Status    {doc.status}{': ' + doc.error if doc.error else ''}")
    print(f"Original  {archive.original_path(doc.id)}")
    for page in pages:
        how = ", ".join(filter(None, [
            page.method, page.confidence is not None and f"confidence {page.confidence:.0f}",
            page.encoding and f"encoding {page.encoding}",
            page.nuls_removed and f"{page.nuls_removed:,} NUL bytes removed",
            page.possibly_incomplete and f"POSSIBLY INCOMPLETE: {page.unread_lines} band(s) of ink gave no text"]))
        print(f"\n--- page {page.number} ({how or page.status}) ---")
        print(page.text if page.status == "done" else f"[{page.status}] {page.error or ''}")
    return EXIT_OK


def cmd_list(args) -> int:
    archive = _archive(args)
    readable = _readable_ids(archive, args.as_user)
    docs = [d for d in archive.catalog.list_documents() if readable is None or d.id in readable]
    for doc in docs:
        if args.json:
            _emit(_doc_json(doc))
        else:
            print(f"{doc.id[:12]}  {doc.status:10} {doc.page_count:4} p  {doc.title or doc.filename}")
    if not args.json:
        print(f"{len(docs)} documents", file=sys.stderr)
    return EXIT_OK


# -- ocr ---------------------------------------------------------------------------------------

def cmd_ocr(args) -> int:
    from ingest import detect, extract

    media_type = detect.sniff(args.file)
    count = extract.count_pages(args.file, media_type)
    failed = False
    for number in range(1, count + 1):
        try:
            page = extract.extract_page(args.file, media_type, number)
        except SanadError as exc:
            failed = True
            if args.json:
                _emit({"page": number, "error": str(exc)})
            else:
                print(f"--- page {number}: failed: {exc}", file=sys.stderr)
            continue
        if args.json:
            _emit({"page": number, "text": page.text, "method": page.method, "lang": page.lang,
                   "confidence": page.confidence, "possibly_incomplete": page.unread_lines > 0,
                   "unread_lines": page.unread_lines})
        else:
            if count > 1:
                print(f"--- page {number} ({page.method}, {page.lang or '?'}) ---")
            print(page.text)
            if page.unread_lines:
                print(f"--- page {number}: possibly incomplete: {page.unread_lines} band(s) of ink gave no text",
                      file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


# -- verify / reindex ----------------------------------------------------------------------------

def cmd_verify(args) -> int:
    from ui.verify import verify

    archive = _archive(args)
    problems = verify(archive, report=lambda line: print(line, flush=True))
    if problems:
        print(f"verify: {problems} problem(s) found", file=sys.stderr)
        return EXIT_FAILED
    print("verify: everything matches")
    return EXIT_OK


def cmd_reindex(args) -> int:
    from search.index import SearchIndex

    archive = _archive(args)
    pages = SearchIndex(archive.index_dir, notify=_notice).rebuild(archive.catalog)
    archive.catalog.audit(_actor(), "reindex", None, {"pages": pages})
    print(f"reindexed {pages} pages of {len(archive.catalog.list_documents('done'))} documents")
    return EXIT_OK


def _notice(message: str) -> None:
    print(f"sanad: {message}", file=sys.stderr, flush=True)


def _actor() -> str:
    from ingest.pipeline import _user

    return _user()


# -- settings ----------------------------------------------------------------------------------

def cmd_settings(args) -> int:
    from archive import settings

    if args.markdown:
        print(settings.markdown_table())
        return EXIT_OK
    root = args.archive or default_root()
    current = settings.load(root)
    rows = [(s.name, current.values[s.name], current.source(s.name), s.help) for s in settings.SETTINGS]
    if args.json:
        for name, value, source, help_text in rows:
            _emit({"name": name, "value": value, "source": source, "help": help_text})
        return EXIT_OK
    width = max(len(name) for name, *_ in rows)
    for name, value, source, _ in rows:
        print(f"{name:<{width}}  {value!r:<14} {source}")
    print(f"(settings are read from {Path(root) / settings.CONFIG_FILE}, then SANAD_* variables, then flags)",
          file=sys.stderr)
    return EXIT_OK


# -- ui ------------------------------------------------------------------------------------------

def cmd_ui(args) -> int:
    from archive import settings
    from archive.team import check_team_mode
    from ui.guard import allowed_hosts

    archive = _archive(args)
    server = Path(__file__).with_name("serve.py")  # app.py behind Sanad's Host check and headers
    env = os.environ | {"SANAD_ARCHIVE": str(archive.root.resolve())}

    current = settings.load(archive.root, flags={"auth": "local" if args.team else None, "port": args.port,
                                                 "address": args.address})
    mode, args.port, args.address = current.auth, current.port, current.address
    if mode != "none":
        check_team_mode(archive, mode)  # refuses, saying what is missing
        # the server's settings as resolved here (OIDC's default redirect address names them)
        env |= {"SANAD_AUTH": mode, "SANAD_PORT": str(args.port), "SANAD_ADDRESS": args.address}
    # Everything else the server needs is in ui/.streamlit/config.toml, which every run reads.
    cmd = [sys.executable, "-m", "streamlit", "run", str(server),
           "--server.port", str(args.port), "--server.address", args.address]
    for host in allowed_hosts(args.address, args.allow_host):
        cmd += ["--server.allowedHosts", host]
    if args.address in ("0.0.0.0", "::") and not args.allow_host:
        print("sanad: browsers on other computers must reach this one by a name or address given with "
              "--allow-host; any other Host is refused (it is how DNS rebinding attacks look)", file=sys.stderr)
    print(f"Sanad is at http://{args.address}:{args.port}  (archive: {archive.root.resolve()}; Ctrl-C stops it)",
          file=sys.stderr)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
