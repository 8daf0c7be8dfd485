"""ACL: users, their rules and the ACL command (Redis 7.0's acl.c).

    acl_rules.py   users and selectors: the rule language (on/off, passwords, +cmd,
                   +@category, ~keys, %R~/%W~, &channels, (selectors)), the permission
                   check, the ACL LIST / GETUSER descriptions
    acl_users.py   the node's users (`server.acl`): authentication, the executor's
                   gate, EXEC and script checks, the ACL log, ACL LOAD / SAVE files
    acl_cmds.py    the ACL command
    module_cmds.py MODULE, refused unless enable-module-command allows the client (no
                   module can load in this node: LIST is empty, LOAD fails)

The layer sits on families (it reuses the key specs of COMMAND GETKEYSANDFLAGS and the
CLIENT LIST line); the layers below reach it only through `server.acl`'s methods.
"""
