"""What the generic commands need to know of every value type, and the one call that
registers a type for all of it.

TYPE and SCAN TYPE read its Redis type name (keyspace.TYPE_NAMES), OBJECT ENCODING asks
it for its encoding (OBJECT_ENCODINGS), COPY duplicates it (VALUE_COPIERS), and
DUMP/RESTORE/MIGRATE/replication serialize it (value_codec.register_value_codec).
Strings are registered here; each other type registers itself in its data/*_type.py.
"""
import copy as _copy

from commands.data.keyspace import TYPE_NAMES
from commands.data.memory_model import ESTIMATORS
from commands.data.numbers import parse_int64
from commands.data.value_codec import register_value_codec

EMBSTR_SIZE_LIMIT = 44               # strings up to this size are "embstr"


def string_encoding(value) -> str:
    """What Redis's tryObjectEncoding would have chosen for a string set whole."""
    if type(value) is bytearray:
        return "raw"                 # changed in place by APPEND/SETRANGE
    if len(value) <= 20 and parse_int64(value) is not None:
        return "int"
    return "embstr" if len(value) <= EMBSTR_SIZE_LIMIT else "raw"


OBJECT_ENCODINGS = {bytes: string_encoding, bytearray: string_encoding}
VALUE_COPIERS = {bytes: lambda v: v, bytearray: bytearray}


def copy_value(value):
    """COPY's independent copy of a value."""
    copier = VALUE_COPIERS.get(type(value))
    return copier(value) if copier is not None else _copy.deepcopy(value)


def register_type(python_class, type_name, encoding, copy, to_neutral, from_neutral,
                  unordered=False, memory=None):
    """encoding(value) -> str; copy(value) -> an independent value; to_neutral and
    from_neutral as value_codec documents (unordered for sets and hashes: digests);
    memory(value, samples) -> the bytes Redis would use for it (memory_model.py)."""
    TYPE_NAMES[python_class] = type_name
    if memory is not None:
        ESTIMATORS[python_class] = memory
    OBJECT_ENCODINGS[python_class] = encoding
    VALUE_COPIERS[python_class] = copy
    register_value_codec(type_name, python_class, to_neutral, from_neutral,
                         encoding=encoding, unordered=unordered)
