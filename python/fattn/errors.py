"""Exceptions of the fattn package.

Every failure the C runtime reports becomes a FattnError carrying the status
name, so that callers can branch on the cause (no driver, bad manifest, ...)
without parsing messages, and still show the library's own one-line reason.
"""


class FattnError(RuntimeError):
    """A failure of the fattn runtime or tools.

    Attributes:
      status: the C API's status name, e.g. "FATTN_STATUS_NO_DRIVER", or None
        when the failure did not come from the C API (library not found,
        fattn-run failed).
      status_code: the numeric fattn_status, or None like `status`.
      reason: the message alone, without the status prefix (for C API
        failures, what fattn_last_error() returned).
    """

    def __init__(self, reason, status=None, status_code=None):
        self.reason = reason
        self.status = status
        self.status_code = status_code
        super().__init__(f"{status}: {reason}" if status else reason)


class CompileError(FattnError):
    """fattn-run failed to compile a program.

    Attributes (beyond FattnError's): command, the argument list that ran;
    returncode; stdout and stderr, fattn-run's output, whose stderr holds the
    compiler's diagnostics.
    """

    def __init__(self, reason, command, returncode, stdout, stderr):
        self.command = command
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(reason)
