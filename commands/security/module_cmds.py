"""MODULE: Redis's module commands, on a node that cannot load modules.

Redis modules are C shared libraries written against Redis's C API; a Python node has
no such API, so no module ever loads here. What the commands do is still Redis 7.0's:

- `enable-module-command` (default `no`, `local` for loopback clients only) guards
  LOAD, LOADEX and UNLOAD (Redis's PROTECTED subcommands) with Redis's own error, as
  processCommand does; HELP and LIST are always answered;
- LIST answers the (empty) list of loaded modules, UNLOAD "no such module", and
  LOAD / LOADEX Redis's "Error loading the extension" with the reason in the log.
"""
from loguru import logger

from commands.server.settings import protected_action_allowed
from commands.server.resp import ReplyError, Status
from commands.server.table import container, subcommand

MODULE = container("module", -2, group="server", since="4.0.0",
                   summary="A container for module commands")

_ADMIN = "admin noscript"
_HELP = [
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and "
    "optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
]
_NOT_ALLOWED = (
    "ERR MODULE command not allowed. If the enable-module-command option is set to "
    "\"local\", you can run it from a local connection, otherwise you need to set this "
    "option in the configuration file, and then restart the server.")


def _check_allowed(c) -> None:
    if not protected_action_allowed(c.server.settings.enable_module_command, c):
        raise ReplyError(_NOT_ALLOWED)


@subcommand(MODULE, "help", 2, "loading stale", since="5.0.0",
            summary="Show helpful text about the different subcommands")
def module_help(c, argv):
    return [Status(line) for line in _HELP]


@subcommand(MODULE, "list", 2, _ADMIN, since="4.0.0", summary="List all modules loaded by the server",
            tips=("nondeterministic_output_order",))
def module_list(c, argv):
    return []                           # nothing can be loaded, so nothing is


def _load(c, argv):
    _check_allowed(c)
    logger.warning("Module {} failed to load: this node cannot load Redis modules (they "
                   "are C libraries for Redis's C API)", argv[2].decode("utf-8", "replace"))
    raise ReplyError("ERR Error loading the extension. Please check the server logs.")


@subcommand(MODULE, "load", -3, _ADMIN + " no_async_loading", since="4.0.0",
            summary="Load a module")
def module_load(c, argv):
    return _load(c, argv)


@subcommand(MODULE, "loadex", -3, _ADMIN + " no_async_loading", since="7.0.0",
            summary="Load a module with extended parameters")
def module_loadex(c, argv):
    return _load(c, argv)


@subcommand(MODULE, "unload", 3, _ADMIN + " no_async_loading", since="4.0.0",
            summary="Unload a module")
def module_unload(c, argv):
    _check_allowed(c)
    raise ReplyError("ERR Error unloading module: no such module with that name")
