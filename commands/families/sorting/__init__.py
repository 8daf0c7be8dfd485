"""SORT and SORT_RO (sort_cmds.py): Redis's sortCommandGeneric over lists, sets and sorted
sets, with BY, LIMIT, GET, ASC/DESC, ALPHA and STORE, and cluster mode's refusal of
BY/GET patterns.
"""
