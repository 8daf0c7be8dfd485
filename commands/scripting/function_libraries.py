"""The function libraries (Redis 7.0's functions.c): what FUNCTION LOAD keeps, what FCALL
finds, what RDB files, the AOF and replicas carry.

A library is the code FUNCTION LOAD got (shebang included: that text is what DUMP, the
RDB and the AOF rewrite write, as in Redis) and the functions its body registered. The
compiled callbacks live in one Lua VM of their own (lua_engine.LuaEngine with
functions=True), separate from EVAL's: SCRIPT FLUSH resets EVAL's VM and must leave the
functions alone, FUNCTION FLUSH the reverse. Function names are looked up without regard
to case (functions.c functionDictType); library names and the names inside one library
with it.

Every change goes through a "staging" copy first, as functionsCreateWithLibraryCtx and
libraryJoin do: a library whose body fails, or whose functions clash with another
library's, leaves the registry exactly as it was.
"""
import time

from commands.data.glob import match
from commands.rdb.function_payload import FunctionPayloadError, read_functions
from commands.scripting.lua_engine import FUNCTION_FLAGS, LuaEngine
from commands.server.resp import split_args

ENGINE_NAME = "LUA"
_NAME_ERROR = ("Library names can only contain letters, numbers, or underscores(_) and "
               "must be at least one character long")
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class FunctionError(Exception):
    """A refused load or restore; str() is Redis's text without the "ERR "."""


class Function:
    __slots__ = ("name", "callback", "flags", "description", "library")

    def __init__(self, name: bytes, callback, flags: frozenset, description, library):
        self.name = name
        self.callback = callback          # the Lua function (in the functions' VM)
        self.flags = flags                # a subset of lua_engine.FUNCTION_FLAGS
        self.description = description    # bytes or None
        self.library = library

    def flag_list(self) -> list:
        """The flags in script.c's order (FUNCTION LIST)."""
        return [flag for flag in FUNCTION_FLAGS if flag in self.flags]


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes):
        self.name = name
        self.code = code                  # the FUNCTION LOAD text, shebang included
        self.functions = {}               # name (as registered) -> Function


def valid_name(name: bytes) -> bool:
    return bool(name) and all(byte in _NAME_CHARS for byte in name)


def parse_metadata(code: bytes):
    """(engine, library name, body) of a library's code (functionExtractLibMetaData).
    The body keeps the shebang line's line feed, so line numbers stay the user's."""
    if not code.startswith(b"#!"):
        raise FunctionError("Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise FunctionError("Invalid library metadata")
    try:
        parts = split_args(code[:end])
    except ValueError:
        parts = None
    if not parts:
        raise FunctionError("Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise FunctionError("Invalid metadata value, name argument was given "
                                    "multiple times")
            name = part[5:]
            continue
        raise FunctionError("Invalid metadata value given: %s"
                            % part.decode("utf-8", "surrogateescape"))
    if name is None:
        raise FunctionError("Library name was not given")
    return engine, name, code[end:]


class FunctionLibraries:
    """The libraries and their functions, and the Lua VM they run in."""

    def __init__(self, server):
        self.server = server
        self._engine = None               # built on the first library (a Lua VM costs)
        self.libraries = {}               # library name -> Library, in load order
        self.functions = {}               # function name, lower case -> Function

    @property
    def engine(self) -> LuaEngine:
        if self._engine is None:
            self._engine = LuaEngine(self.server, functions=True)
        return self._engine

    @property
    def running(self):
        """The ScriptRun of the function running now, or None."""
        return self._engine.run if self._engine is not None else None

    def codes(self) -> list:
        """Every library's code, in load order (RDB, DUMP, AOF rewrite)."""
        return [library.code for library in self.libraries.values()]

    def find(self, name: bytes):
        return self.functions.get(name.lower())

    # ------------------------------------------------------------ changes

    def load(self, code: bytes, replace: bool = False, timeout_ms: int = 0) -> bytes:
        """FUNCTION LOAD: the library's name, or FunctionError."""
        self._create(code, replace, timeout_ms, self.libraries, self.functions)
        return parse_metadata(code)[1]

    def delete(self, name: bytes) -> bool:
        library = self.libraries.pop(name, None)
        if library is None:
            return False
        for function_name in library.functions:
            del self.functions[function_name.lower()]
        return True

    def flush(self) -> None:
        """FUNCTION FLUSH. The VM goes too: nothing a library left in it survives (the
        compiled callbacks would be garbage in it otherwise)."""
        self.libraries = {}
        self.functions = {}
        if self._engine is not None and self._engine.run is None:
            self._engine = None

    def restore(self, payload, policy: str, skip_checksum: bool = False) -> None:
        """FUNCTION RESTORE with policy "append", "replace" or "flush"; FunctionError
        leaves everything as it was."""
        try:
            codes = read_functions(payload, skip_checksum)
        except FunctionPayloadError as exc:
            raise FunctionError(str(exc)) from None
        libraries, functions = {}, {}
        for code in codes:
            self._create(code, False, 0, libraries, functions)
        if policy == "flush":
            self.libraries, self.functions = libraries, functions
            return
        merged_libraries = dict(self.libraries)
        merged_functions = dict(self.functions)
        for name, library in libraries.items():
            old = merged_libraries.pop(name, None)
            if old is not None:
                if policy != "replace":
                    raise FunctionError("Library %s already exists"
                                        % name.decode("utf-8", "surrogateescape"))
                for function_name in old.functions:
                    del merged_functions[function_name.lower()]
        for key, function in functions.items():
            if key in merged_functions:
                raise FunctionError("Function %s already exists"
                                    % function.name.decode("utf-8", "surrogateescape"))
        merged_libraries.update(libraries)
        merged_functions.update(functions)
        self.libraries, self.functions = merged_libraries, merged_functions

    def replace_all(self, codes) -> None:
        """Whatever an RDB held becomes the libraries (start-up load, a replica's full
        sync, DEBUG RELOAD: Redis empties the functions with the data there)."""
        libraries, functions = {}, {}
        for code in codes:
            self._create(code, False, 0, libraries, functions)
        self.libraries, self.functions = libraries, functions

    def _create(self, code, replace, timeout_ms, libraries, functions) -> None:
        """functionsCreateWithLibraryCtx into (libraries, functions), changed only on
        success."""
        engine_name, name, body = parse_metadata(code)
        if not valid_name(name):
            raise FunctionError(_NAME_ERROR)
        if engine_name.upper() != ENGINE_NAME.encode():
            raise FunctionError("Engine '%s' not found"
                                % engine_name.decode("utf-8", "surrogateescape"))
        old = libraries.get(name)
        if old is not None and not replace:
            raise FunctionError("Library '%s' already exists"
                                % name.decode("utf-8", "surrogateescape"))
        library = Library(name, code)

        def register(function_name, callback, flags, description):
            if not valid_name(function_name):
                return _NAME_ERROR
            if function_name in library.functions:
                return "Function already exists in the library"
            library.functions[function_name] = Function(function_name, callback, flags,
                                                        description, library)
            return None

        error = self.engine.load_library(body, register, timeout_ms)
        if error is not None:
            raise FunctionError(error)
        if not library.functions:
            raise FunctionError("No functions registered")
        for function_name in library.functions:
            key = function_name.lower()
            clash = functions.get(key)
            if clash is not None and clash.library is not old:
                raise FunctionError("Function %s already exists"
                                    % function_name.decode("utf-8", "surrogateescape"))
        if old is not None:
            for function_name in old.functions:
                del functions[function_name.lower()]
        libraries[name] = library
        for function_name, function in library.functions.items():
            functions[function_name.lower()] = function

    # ------------------------------------------------------------ reading

    def listing(self, pattern=None):
        """The libraries FUNCTION LIST shows (LIBRARYNAME: a glob, case-insensitive as
        stringmatchlen(..., nocase=1))."""
        return [library for name, library in self.libraries.items()
                if pattern is None or match(pattern, name, nocase=True)]

    def stats(self):
        """(libraries, functions) counts for FUNCTION STATS and INFO."""
        return len(self.libraries), len(self.functions)

    def vm_memory(self) -> int:
        """used_memory_vm_functions: the functions' Lua VM (Redis counts its heap even
        with no library loaded; ours is built on first use)."""
        if self._engine is None:
            return 0
        return self._engine.memory()


def run_duration_ms(run) -> int:
    return int((time.monotonic() - run.start) * 1000)
