"""The few named errors Sanad raises. Each message tells the user what to do next."""


class SanadError(Exception):
    """Base class: anything Sanad reports to a user instead of a traceback."""


class InputError(SanadError):
    """A file given to Sanad cannot be read or processed (missing, empty, unreadable, corrupt, ...)."""


class UnsupportedFile(InputError):
    """The file's content is of a kind Sanad does not extract text from."""


class EncryptedFile(InputError):
    """The file is encrypted or password-protected."""


class TooLarge(InputError):
    """The file, an image in it or an archive member exceeds Sanad's size limits."""


class ToolMissing(SanadError):
    """An external program Sanad needs (tesseract, pdftotext, ...) is not installed."""


class IntegrityError(SanadError):
    """The archive disagrees with itself: a stored original or the index does not match the catalog."""


class QueryError(SanadError):
    """A search query cannot be understood."""
