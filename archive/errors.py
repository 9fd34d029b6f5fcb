"""Every error Sanad reports to a user, each with its own exit code and a message that says
what to do next.

The tree follows httpx's: catch ``SanadError`` for anything Sanad explains, or a branch
(``InputError`` for a file that cannot be processed) for one kind. The exit codes are part of
the command line's interface (scripts test them), so a code, once given, is never reused.
"""

from __future__ import annotations

# Codes that are not errors of a class: a clean run, a batch in which some files failed, and
# argparse's own code for words it cannot parse.
EXIT_OK = 0
EXIT_FILES_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class SanadError(Exception):
    """Base class: anything Sanad reports to a user instead of a traceback."""

    exit_code = EXIT_USAGE
    hint = ""

    def __str__(self) -> str:
        message = super().__str__() or (self.__doc__ or "").strip().splitlines()[0].rstrip(".")
        return f"{message}; {self.hint}" if self.hint and self.hint not in message else message


class NotFound(SanadError):
    """No document, page or collection has that name."""

    exit_code = 3


class QueryError(SanadError):
    """A search query cannot be understood."""

    exit_code = 4


class InputError(SanadError):
    """A file given to Sanad cannot be read or processed (missing, empty, unreadable, corrupt, ...)."""

    exit_code = 5


class UnsupportedFile(InputError):
    """The file's content is of a kind Sanad does not extract text from."""

    exit_code = 6


class EncryptedFile(InputError):
    """The file is encrypted or password-protected."""

    exit_code = 7


class TooLarge(InputError):
    """The file, an image in it or an archive member exceeds Sanad's size limits."""

    exit_code = 8


class WorkerCrashed(InputError):
    """The worker process died on an item (out of memory, or a crash in a native library)."""

    exit_code = 9


class TimedOut(InputError):
    """Processing the item took longer than its time limit and was stopped."""

    exit_code = 14


class ToolMissing(SanadError):
    """An external program Sanad needs (tesseract, pdftotext, ...) is not installed."""

    exit_code = 10


class IntegrityError(SanadError):
    """The archive disagrees with itself: a stored original or the index does not match the catalog."""

    exit_code = 11


class IndexDamaged(IntegrityError):
    """The search index is damaged."""

    exit_code = 12
    hint = "run `sanad reindex` to rebuild it from the catalog (nothing in the archive is lost)"


class IndexNotReady(SanadError):
    """The search index is being built by a running ingest."""

    exit_code = 16
    hint = "search again in a moment"


class DiskFull(SanadError):
    """The disk that holds the archive is full."""

    exit_code = 13
    hint = "free some space, then run the same command again to finish the batch"


class SettingsError(SanadError):
    """A setting in sanad.toml, the environment or a flag has a value Sanad cannot use."""

    exit_code = 17
    hint = "`sanad settings` lists every setting with its type and where its value came from"


class InternalError(SanadError):
    """Sanad failed in a way it did not expect: a bug, not a problem with the file."""

    exit_code = 15
    hint = "the traceback is in the log; please report it"


class ClusterUnavailable(SanadError):
    """The cluster's scheduler cannot be reached, or was lost in the middle of a batch."""

    exit_code = 18
    hint = ("pages already done are saved in the catalog; start the scheduler (`sanad scheduler`) and run the"
            " same command again to finish the batch")


class ClusterRefused(SanadError):
    """The cluster cannot be used as asked: no worker there runs this Sanad version with its models, or
    it would listen beyond this computer without TLS certificates."""

    exit_code = 19


# -- team mode ------------------------------------------------------------------------------

class AuthError(SanadError):
    """The user name or password is wrong, or the account is disabled."""

    exit_code = 20
    hint = "check the name and password; an admin can reset them with `sanad users add NAME` on a new name"


class LoginLocked(AuthError):
    """Too many wrong passwords for this account: logging in is locked for a while."""

    exit_code = 21
    hint = "wait until the lock ends (the `lockout_minutes` setting), or ask an admin"


class AccessDenied(SanadError):
    """Your role does not allow this (viewers may only read; only admins manage members)."""

    exit_code = 22
    hint = "ask an admin of the collection for the editor or admin role (`sanad collections grant`)"


class TeamModeNotReady(SettingsError):
    """Team mode is switched on but not set up."""

    exit_code = 23
    hint = "see the README's \"Team mode\" section"
