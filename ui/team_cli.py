"""The team-mode commands of `sanad`: users, collections and audit (ui/cli.py adds them).

Whoever runs these can read the archive folder, so they are the archive's administrators: the
commands need no login. What they change is audited under the operating-system user.
"""

from __future__ import annotations

import getpass
import json
import sys

from archive import accounts, audit, collections
from archive.errors import EXIT_OK, InputError


def add_parsers(sub, archive_of) -> None:
    """The `users`, `collections` and `audit` commands; ``archive_of(args)`` opens the archive."""
    def run(command):
        return lambda args: command(archive_of(args), args)

    users = sub.add_parser("users", help="team mode: the accounts that may log in to the workbench")
    users_sub = users.add_subparsers(metavar="ACTION", required=True)
    p = users_sub.add_parser("add", help="create an account (asks for its password)")
    p.add_argument("name")
    p.add_argument("--admin", action="store_true", help="may manage every collection and read all of them")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    p.add_argument("--oidc", action="store_true",
                   help="no password: the account logs in through the identity provider (auth = \"oidc\");"
                        " NAME is its oidc_name_claim, the e-mail address by default")
    p.set_defaults(run=run(cmd_users_add))
    p = users_sub.add_parser("list", help="every account")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run(cmd_users_list))
    p = users_sub.add_parser("disable", help="stop an account from logging in; its sessions end at once")
    p.add_argument("name")
    p.set_defaults(run=run(cmd_users_disable))

    coll = sub.add_parser("collections", help="team mode: collections of documents and their members")
    coll_sub = coll.add_subparsers(metavar="ACTION", required=True)
    p = coll_sub.add_parser("create", help="a new, empty collection")
    p.add_argument("name")
    p.set_defaults(run=run(cmd_collections_create))
    p = coll_sub.add_parser("grant", help="give a user a role in a collection (or change it)")
    p.add_argument("name")
    p.add_argument("user")
    p.add_argument("--role", choices=collections.ROLES, required=True)
    p.set_defaults(run=run(cmd_collections_grant))
    p = coll_sub.add_parser("revoke", help="take a user's role in a collection away")
    p.add_argument("name")
    p.add_argument("user")
    p.set_defaults(run=run(cmd_collections_revoke))
    p = coll_sub.add_parser("list", help="every collection, its documents and members")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run(cmd_collections_list))

    p = sub.add_parser("audit", help="the audit log: logins, searches, views, downloads, changes")
    p.add_argument("--user", help="only what this account did")
    p.add_argument("--since", help="only from this date or time on (2026-12-01, 2026-12-01T09:30; UTC)")
    p.add_argument("--action", help="only this kind of entry (login, login-failed, search, view, ...)")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="one JSON object per entry")
    p.set_defaults(run=run(cmd_audit))


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise InputError("the two passwords differ")
    if not password:
        raise InputError("no password given")
    return password


def cmd_users_add(archive, args) -> int:
    password = None if args.oidc else read_password(args.password_stdin)
    user = accounts.add_user(archive.catalog, args.name, password, admin=args.admin, actor=os_user())
    print(f"user {user.name} added{' (admin)' if user.admin else ''}; "
          f"`sanad collections grant NAME {user.name} --role viewer` lets them read a collection", file=sys.stderr)
    return EXIT_OK


def cmd_users_list(archive, args) -> int:
    for user in accounts.list_users(archive.catalog):
        if args.json:
            _emit({"name": user.name, "admin": user.admin, "disabled": user.disabled, "created_at": user.created_at})
        else:
            flags = ", ".join(f for f, on in (("admin", user.admin), ("disabled", user.disabled)) if on)
            print(f"{user.name:24} {user.created_at}  {flags}")
    return EXIT_OK


def cmd_users_disable(archive, args) -> int:
    accounts.disable_user(archive.catalog, args.name, actor=os_user())
    print(f"user {args.name} disabled", file=sys.stderr)
    return EXIT_OK


def cmd_collections_create(archive, args) -> int:
    collections.create(archive.catalog, args.name, actor=os_user())
    print(f"collection {args.name} created; `sanad ingest --collection {args.name} FILES` adds documents",
          file=sys.stderr)
    return EXIT_OK


def cmd_collections_grant(archive, args) -> int:
    collections.grant(archive.catalog, args.name, args.user, args.role, actor=os_user())
    print(f"{args.user} is {args.role} of {args.name}", file=sys.stderr)
    return EXIT_OK


def cmd_collections_revoke(archive, args) -> int:
    collections.revoke(archive.catalog, args.name, args.user, actor=os_user())
    print(f"{args.user} is no longer a member of {args.name}", file=sys.stderr)
    return EXIT_OK


def cmd_collections_list(archive, args) -> int:
    for row in collections.listing(archive.catalog):
        if args.json:
            _emit(row)
        else:
            members = ", ".join(f"{u} ({r})" for u, r in row["members"].items()) or "no members"
            print(f"{row['name']:24} {row['documents']:6} documents  {members}")
    return EXIT_OK


def cmd_audit(archive, args) -> int:
    since = audit.since_bound(args.since) if args.since else None
    rows = audit.entries(archive.catalog, user=args.user, since=since, action=args.action, limit=args.limit)
    for entry in reversed(rows):  # oldest first, as a log reads
        if args.json:
            _emit(entry.to_json())
        else:
            doc = f" {entry.document_id[:12]}" if entry.document_id else ""
            where = f" from {entry.address}" if entry.address else ""
            detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
            print(f"{entry.at}  {entry.actor:16} {entry.action:14}{doc}{where}  {detail}")
    return EXIT_OK
