"""The value types of Redis 7.0's configuration parameters: how a value is parsed, shown
by CONFIG GET and written by CONFIG REWRITE, with Redis's error texts (src/config.c).

A `Setting` is one row of the table (commands/server/config_table.py). Its `kind` picks
the parser and the formatters below; the flags say what Redis's flags say (IMMUTABLE,
PROTECTED, HIDDEN, DENY_LOADING, the unsigned bound check of size_t/uint/ull fields).
Values are kept in plain Python forms (int, bool, str, a dict for the output buffer
limits) because the rest of the node reads them as attributes (settings.maxclients).

Multi-argument parameters (save, bind, client-output-buffer-limit, ...) take a list of
words: CONFIG SET splits its value on single spaces, a config file line gives its words.
"""
from dataclasses import dataclass
from typing import Callable

from cluster.listen import BINDADDR_MAX
from commands.data.notifications import (KeyspaceEventsError, format_keyspace_events,
                                         parse_keyspace_events)


class SettingError(ValueError):
    """A value Redis would refuse; the message is Redis's reason text."""


LL_MIN, LL_MAX = -2 ** 63, 2 ** 63 - 1
INT_MIN, INT_MAX = -2 ** 31, 2 ** 31 - 1
UINT_MAX = 2 ** 32 - 1
ULL_MAX = 2 ** 64 - 1


# ---------------------------------------------------------------- Redis's number parsers

def string2ll(text: str):
    """Redis's string2ll: an optional '-', then digits without a leading zero (or "0"
    alone), inside the long long range; None otherwise (no spaces, no '+')."""
    digits = text[1:] if text.startswith("-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    if digits[0] == "0" and (len(digits) > 1 or text.startswith("-")):
        return None
    value = int(text)
    return value if LL_MIN <= value <= LL_MAX else None


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
          "g": 1000 ** 3, "gb": 1024 ** 3}


def memtoull(text: str):
    """Redis's memtoull: digits and an optional unit (b k kb m mb g gb, any case); None if
    malformed. Like Redis it does not check overflow: the digits saturate at 2^64-1 and
    the product wraps, and "" or a bare unit are 0."""
    if text.startswith("-"):
        return None
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    unit = _UNITS.get(text[end:].lower())
    if unit is None or end >= 128:
        return None
    number = min(int(text[:end] or "0"), ULL_MAX)
    return (number * unit) & ULL_MAX


def parse_memory(text: str) -> int:
    """'512mb' -> 536870912 (kept for callers outside the table)."""
    value = memtoull(text.strip())
    if value is None:
        raise SettingError("argument must be a memory value")
    return value


def _strtoll_prefix(text: str):
    """C's strtoll(text, &end, 10) -> (value, rest): leading spaces, a sign, digits,
    saturating at the long long range; rest is what was not consumed."""
    stripped = text.lstrip(" \t\n\r\x0b\x0c")
    i = 1 if stripped[:1] in ("+", "-") else 0
    j = i
    while j < len(stripped) and "0" <= stripped[j] <= "9":
        j += 1
    if j == i:
        return 0, text
    value = max(min(int(stripped[:j]), LL_MAX), LL_MIN)
    return value, stripped[j:]


def format_memory(value: int) -> str:
    """rewriteConfigFormatMemory: 1gb, 64mb, 100kb, or plain bytes."""
    for unit, size in (("gb", 1024 ** 3), ("mb", 1024 ** 2), ("kb", 1024)):
        if value and value % size == 0:
            return "%d%s" % (value // size, unit)
    return str(value)


def sds_repr(text: str) -> str:
    """sdscatrepr: quoted, C escapes, \\xHH for what is not printable."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\a": "\\a", "\b": "\\b"}
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        ch = chr(byte)
        if ch in escapes:
            out.append(escapes[ch])
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % byte)
    return '"%s"' % "".join(out)


def format_percentile(value: float) -> str:
    """A percentile as Redis prints it: "%f" with the trailing zeros (and dot) trimmed."""
    text = "%f" % value
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- the row type

@dataclass
class Setting:
    name: str
    kind: str           # bool | int | memory | percent-memory | octal | enum | flags |
                        # string | save | obuf | bind | dir | replicaof | oom-values |
                        # percentiles | keyspace-events  (the parsers below)
    default: object
    minimum: int = None
    maximum: int = None
    choices: tuple = ()
    mutable: bool = True
    doc: str = ""
    clamp: tuple = None       # (low, high) Redis silently applies after validation (hz)
    alias: str = None         # the second name Redis knows it by (slave-*, *-ziplist-*)
    protected: bool = False   # PROTECTED_CONFIG: CONFIG SET only with enable-protected-configs
    hidden: bool = False      # HIDDEN_CONFIG: CONFIG GET finds it by its exact name only
    deny_loading: bool = False    # DENY_LOADING_CONFIG: -LOADING while the dataset loads
    unsigned: bool = False    # size_t/uint/ull field: Redis checks the bounds unsigned
    empty_is_null: bool = False   # EMPTY_STRING_IS_NULL: "" is "unset", not rewritten
    volatile: bool = False    # VOLATILE_CONFIG: CONFIG SET of the same value applies it
                              # again (a certificate file re-read after its rotation)
    check: Callable = None    # extra validation of a parsed value; raises SettingError
    missing: str = None       # a feature this node does not have: only the default is
                              # accepted, anything else is refused naming the feature
    no_effect: str = None     # why it has no effect here (the README's table)

    @property
    def multi_arg(self) -> bool:
        """MULTI_ARG_CONFIG: the value is a list of words."""
        return self.kind in _MULTI_ARG_KINDS

    def parse(self, text: str):
        """A value as CONFIG SET gives it (multi-argument ones split on single spaces,
        as sdssplitlen does: "" is no words at all)."""
        if not self.multi_arg:
            return self.parse_words([text])
        return self.parse_words(text.split(" ") if text else [])

    def parse_words(self, words: list):
        """A value as words (a config file line, the command line); SettingError."""
        if not self.multi_arg and len(words) != 1:
            raise SettingError("wrong number of arguments")
        value = _PARSERS[self.kind](self, words)
        if self.check is not None:
            self.check(value)
        if self.missing is not None and value != self.default:
            raise SettingError("%s: only the default value '%s' is accepted"
                               % (self.missing, self.format(self.default)))
        return value

    def format(self, value) -> str:
        """The value as CONFIG GET shows it."""
        return _FORMATTERS.get(self.kind, _format_plain)(self, value)

    def rewrite_lines(self, name: str, value) -> list:
        """CONFIG REWRITE: [(line, force)] -- force: written even where the old file does
        not mention it (Redis: a value other than the default). [] removes it."""
        rewrite = _REWRITERS.get(self.kind)
        if rewrite is not None:
            return rewrite(self, name, value)
        if self.kind in ("string", "filename", "hostname"):
            if value is None or (value == "" and self.empty_is_null):
                return []
            return [("%s %s" % (name, sds_repr(value)), value != self.default)]
        return [("%s %s" % (name, self.format(value)), value != self.default)]


# ---------------------------------------------------------------- parsers

def _parse_bool(setting, words):
    lowered = words[0].lower()
    if lowered not in ("yes", "no"):
        raise SettingError("argument must be 'yes' or 'no'")
    return lowered == "yes"


def _check_bounds(setting, value):
    low, high = setting.minimum, setting.maximum
    if setting.unsigned:
        unsigned = value & ULL_MAX
        if not low <= unsigned <= high:
            raise SettingError("argument must be between %d and %d inclusive" % (low, high))
        return unsigned
    if setting.kind == "percent-memory" and value < 0:
        if value < low:
            raise SettingError("percentage argument must be less or equal to %d" % -low)
        return value
    if not low <= value <= high:
        raise SettingError("argument must be between %d and %d inclusive" % (low, high))
    return value


def _signed(value: int) -> int:
    """An unsigned 64-bit result stored into Redis's long long."""
    return value - 2 ** 64 if value > LL_MAX else value


def _parse_int(setting, words):
    value = string2ll(words[0])
    if value is None:
        raise SettingError("argument couldn't be parsed into an integer")
    value = _check_bounds(setting, value)
    if setting.clamp:
        value = min(max(value, setting.clamp[0]), setting.clamp[1])
    return value


def _parse_memory(setting, words):
    value = memtoull(words[0])
    if value is None:
        raise SettingError("argument must be a memory value")
    return _check_bounds(setting, _signed(value))


def _parse_percent_memory(setting, words):
    """maxmemory-clients: a memory value, or N% kept as -N (as Redis stores it)."""
    text = words[0]
    value = memtoull(text)
    if value is not None:
        return _check_bounds(setting, _signed(value))
    if len(text) > 1 and text.endswith("%"):
        percent = string2ll(text[:-1])
        if percent is not None and percent >= 0:
            return _check_bounds(setting, -percent)
    raise SettingError("argument must be a memory or percent value")


def _parse_octal(setting, words):
    text = words[0]
    try:
        value = int(text, 8) if text and text.strip() == text and text[0] != "_" else None
    except ValueError:
        value = None
    if value is None or "_" in text:
        raise SettingError("argument couldn't be parsed as an octal number")
    return _check_bounds(setting, value)


def _enum_error(setting):
    return SettingError("argument(s) must be one of the following: %s"
                        % ", ".join(setting.choices))


def _parse_enum(setting, words):
    lowered = words[0].lower()
    if lowered not in setting.choices:
        raise _enum_error(setting)
    return lowered


def _parse_flags(setting, words):
    """A MULTI_ARG enum (shutdown-on-sigint): a set of the choices, kept in table order;
    the first choice stands for none of the others ("default")."""
    chosen = set()
    if not words:
        raise _enum_error(setting)
    for word in words:
        if word.lower() not in setting.choices:
            raise _enum_error(setting)
        chosen.add(word.lower())
    chosen.discard(setting.choices[0])
    return " ".join(c for c in setting.choices[1:] if c in chosen) or setting.choices[0]


def _parse_string(setting, words):
    return words[0]


def _parse_filename(setting, words):
    """The older spelling of a string that may not be a path (dbfilename's check)."""
    if "/" in words[0] or "\\" in words[0]:
        raise SettingError("%s can't be a path, just a filename" % setting.name)
    return words[0]


def _parse_hostname(setting, words):
    """The older spelling of cluster-announce-hostname's kind."""
    if len(words[0]) >= 256:
        raise SettingError("Hostnames must be less than 256 characters")
    if not _HOSTNAME_CHARS.issuperset(words[0]):
        raise SettingError("Hostnames may only contain alphanumeric characters, "
                           "hyphens or dots")
    return words[0]


_HOSTNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789-.")


def _parse_save(setting, words):
    """'<seconds> <changes> ...' (seconds >= 1, changes >= 0) or "" for none, checked as
    setConfigSaveOption checks them (strtoll: a sign and leading spaces pass)."""
    if words == [""]:
        words = []
    if len(words) % 2:
        raise SettingError("Invalid save parameters")
    pairs = []
    for i, word in enumerate(words):
        value, rest = _strtoll_prefix(word)
        if rest or value < (1 if i % 2 == 0 else 0):
            raise SettingError("Invalid save parameters")
        pairs.append(value)
    return " ".join(str(v) for v in pairs)


# client-output-buffer-limit: class -> (hard bytes, soft bytes, soft seconds); 0 = none.
OBUF_CLASSES = ("normal", "slave", "pubsub")
_OBUF_CLASS_NAMES = {"normal": "normal", "slave": "slave", "replica": "slave",
                     "pubsub": "pubsub"}
OBUF_DEFAULTS = {"normal": (0, 0, 0), "slave": (256 * 1024 ** 2, 64 * 1024 ** 2, 60),
                 "pubsub": (32 * 1024 ** 2, 8 * 1024 ** 2, 60)}


def _parse_obuf(setting, words):
    """'<class> <hard> <soft> <soft_seconds> ...' -> the classes given (Redis's
    updateClientOutputBufferLimit: the whole value is checked before any of it applies;
    classes not named keep their limits, which Settings merges)."""
    if len(words) % 4:
        raise SettingError("Wrong number of arguments in buffer limit configuration.")
    limits = {}
    for i in range(0, len(words), 4):
        klass = _OBUF_CLASS_NAMES.get(words[i].lower())
        if klass is None:           # "master" too: Redis refuses a limit for it
            raise SettingError("Invalid client class specified in buffer limit "
                               "configuration.")
        hard, soft = memtoull(words[i + 1]), memtoull(words[i + 2])
        seconds, rest = _strtoll_prefix(words[i + 3])
        if hard is None or soft is None or seconds < 0 or rest or \
                seconds > INT_MAX:
            raise SettingError("Error in hard, soft or soft_seconds setting in buffer "
                               "limit configuration.")
        limits[klass] = (hard, soft, seconds)
    return limits


def _parse_keyspace_events(setting, words):
    """notify-keyspace-events: class letters -> flags (commands/data/notifications.py)."""
    try:
        return parse_keyspace_events(words[0])
    except KeyspaceEventsError as exc:
        raise SettingError(str(exc))


def _parse_bind(setting, words):
    """The addresses; one empty word means none (CONFIG SET bind "")."""
    if words == [""]:
        words = []
    if len(words) > BINDADDR_MAX:
        raise SettingError("Too many bind addresses specified.")
    return " ".join(words)


def _parse_replicaof(setting, words):
    """'<host> <port>' or 'no one' (setConfigReplicaOfOption)."""
    if len(words) != 2:
        raise SettingError("wrong number of arguments")
    if words[0].lower() == "no" and words[1].lower() == "one":
        return ""
    port, rest = _strtoll_prefix(words[1])
    if rest or not 0 <= port <= 65535:
        raise SettingError("Invalid master port")
    return "%s %d" % (words[0], port)


def _parse_oom_values(setting, words):
    if len(words) != 3:
        raise SettingError("wrong number of arguments")
    values = []
    for word in words:
        value, rest = _strtoll_prefix(word)
        if rest or not -2000 <= value <= 2000:
            raise SettingError("Invalid oom-score-adj-values, elements must be between "
                               "-2000 and 2000.")
        values.append(value)
    return " ".join(str(v) for v in values)


def _parse_percentiles(setting, words):
    if words == [""]:
        return ""
    values = []
    for word in words:
        try:
            if word != word.strip() or word.lower() in ("nan", "inf", "-inf", "infinity"):
                raise ValueError
            value = float(word)
        except ValueError:
            raise SettingError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= value <= 100.0:
            raise SettingError("latency-tracking-info-percentiles parameters should sit "
                               "between [0.0,100.0]")
        values.append(format_percentile(value))
    return " ".join(values)


_PARSERS = {
    "bool": _parse_bool, "int": _parse_int, "memory": _parse_memory,
    "percent-memory": _parse_percent_memory, "octal": _parse_octal, "enum": _parse_enum,
    "flags": _parse_flags, "string": _parse_string, "dir": _parse_string,
    "filename": _parse_filename, "hostname": _parse_hostname,
    "save": _parse_save, "obuf": _parse_obuf, "bind": _parse_bind,
    "replicaof": _parse_replicaof, "oom-values": _parse_oom_values,
    "percentiles": _parse_percentiles, "keyspace-events": _parse_keyspace_events,
}
_MULTI_ARG_KINDS = frozenset(("flags", "save", "obuf", "bind", "replicaof", "oom-values",
                              "percentiles"))


# ---------------------------------------------------------------- CONFIG GET forms

def _format_plain(setting, value):
    return "" if value is None else str(value)


def _format_bool(setting, value):
    return "yes" if value else "no"


def _format_percent_memory(setting, value):
    return "%d%%" % -value if value < 0 else str(value)


def _format_obuf(setting, value):
    return " ".join("%s %d %d %d" % (klass, *value[klass]) for klass in OBUF_CLASSES)


_FORMATTERS = {"bool": _format_bool, "percent-memory": _format_percent_memory,
               "octal": lambda setting, value: "%o" % value, "obuf": _format_obuf,
               "keyspace-events": lambda setting, value: format_keyspace_events(value)}


# ---------------------------------------------------------------- CONFIG REWRITE forms

def _rewrite_memory(setting, name, value):
    return [("%s %s" % (name, format_memory(value)), value != setting.default)]


def _rewrite_percent_memory(setting, name, value):
    if value < 0:
        return [("%s %d%%" % (name, -value), value != setting.default)]
    return _rewrite_memory(setting, name, value)


def _rewrite_save(setting, name, value):
    """Always written (an empty save "" too, so the defaults do not come back)."""
    words = value.split()
    if not words:
        return [('%s ""' % name, True)]
    return [("%s %s %s" % (name, words[i], words[i + 1]), True)
            for i in range(0, len(words), 2)]


def _rewrite_obuf(setting, name, value):
    """One line per class, each forced only if that class differs from its default."""
    lines = []
    for klass in OBUF_CLASSES:
        hard, soft, seconds = value[klass]
        line = "%s %s %s %s %d" % (name, "replica" if klass == "slave" else klass,
                                   format_memory(hard), format_memory(soft), seconds)
        lines.append((line, value[klass] != OBUF_DEFAULTS[klass]))
    return lines


def _rewrite_bind(setting, name, value):
    if value == setting.default:
        return []
    return [("%s %s" % (name, value or '""'), True)]


def _rewrite_dir(setting, name, value):
    return [("%s %s" % (name, sds_repr(value)), True)]


def _rewrite_replicaof(setting, name, value):
    # Always a cluster node: Redis writes no replicaof line in cluster mode.
    return []


def _rewrite_keyspace_events(setting, name, value):
    return [("%s %s" % (name, sds_repr(format_keyspace_events(value))), value != 0)]


def _rewrite_percentiles(setting, name, value):
    return [("%s %s" % (name, value or '""'), True)]


_REWRITERS = {"memory": _rewrite_memory, "percent-memory": _rewrite_percent_memory,
              "save": _rewrite_save, "obuf": _rewrite_obuf, "bind": _rewrite_bind,
              "dir": _rewrite_dir, "replicaof": _rewrite_replicaof,
              "percentiles": _rewrite_percentiles,
              "keyspace-events": _rewrite_keyspace_events}
