"""One call registers a value type everywhere the generic commands need to know it.

TYPE and SCAN TYPE read its Redis type name (keyspace.TYPE_NAMES), OBJECT ENCODING asks
it for its encoding (keys.OBJECT_ENCODINGS), COPY duplicates it (keys.VALUE_COPIERS), and
DUMP/RESTORE/MIGRATE/replication serialize it (dump.register_value_codec).
"""
from commands.families import keys
from commands.families.dump import register_value_codec
from commands.data.keyspace import TYPE_NAMES


def register_type(python_class, type_name, encoding, copy, to_plain, from_plain,
                  unordered=False):
    """encoding(value) -> str; copy(value) -> an independent value; to_plain/from_plain
    as dump.register_value_codec documents (unordered for sets: stable digests)."""
    TYPE_NAMES[python_class] = type_name
    keys.OBJECT_ENCODINGS[python_class] = encoding
    keys.VALUE_COPIERS[python_class] = copy
    register_value_codec(type_name, python_class, to_plain, from_plain, unordered=unordered)
