"""Everything between nodes: the Redis Cluster bus, in Python.

Layout (one concern per file):

    slots.py        key -> slot (CRC16 + hash tags), slot ranges
    messages.py     bus wire format (msgpack frames), FrameReader, encode
    redis_bus.py    Redis 7.0's binary bus format ("RCmb"), to and from the same messages
    link_format.py  LinkCodec: which of the two formats a link reads and writes (the rule)
    bus_auth.py     cluster-bus-secret (ours): HMAC-signed compact frames, and who is refused
    listen.py       listening sockets for every `bind` address (listenToPort's rules)
    node_record.py  ClusterNode (clusterNode) and node flags
    config.py       ClusterConfig, DataHooks, LoadedConfig
    state.py        ClusterState: the I/O-free state machine (packets, cron, cluster state)
    entry_point.py  @entry_point: the begin/finish of every state operation, Outcome returns
    handshake.py    the MEET handshake, top to bottom (CLUSTER MEET -> rename on PONG)
    links.py        link bookkeeping            gossip.py   heartbeats and gossip
    failure.py      failure reports, FAIL       slot_config.py  slot ownership, epochs
    failover.py     replica elections, votes    election.py  the election's phases
    manual_failover.py  CLUSTER FAILOVER, MFSTART, and its phases (MfPhase)
    replication_state.py  ReplicationState: CLUSTER REPLICATE, master link status, replica migration
    restore.py      apply a loaded nodes.conf   slot_migration.py   CLUSTER SETSLOT
    admin.py        CLUSTER subcommands and fault hooks
    effects.py      what the state asks an adapter to do; Outcome (effects + reply)
    effect_runner.py  EffectRunner: the one interpreter of effects (bus, sim and tests subclass it)
    logging_levels.py  Redis log levels -> loguru levels (node.py and the bus)
    view.py         read-only view for commands/ (slot owner, cluster ok, role)
    describe.py     CLUSTER NODES/INFO/SLOTS/SHARDS/LINKS text, nodes.conf lines
    nodesconf.py    nodes.conf load; durable save (atomic, fsync), other saves in place
    bus.py          gevent adapter: sockets, link greenlets, cron greenlet
    sim.py          deterministic simulator: many states on a virtual clock

Redis function -> our name (Redis's cluster_legacy.c / cluster.c):

    clusterCron                          ClusterState.cluster_cron
    clusterBeforeSleep                   ClusterState._finish (run by @entry_point)
    clusterProcessPacket                 ClusterState.process_packet
    clusterProcessGossipSection          Gossip.process_gossip_section
    clusterSendPing                      Gossip.send_ping
    clusterBuildMessageHdr               Gossip.build_header
    clusterBroadcastMessage / Pong       Gossip.broadcast / broadcast_pong
    clusterSendUpdate                    Gossip.send_update
    clusterSendFail                      FailureDetection.send_fail
    CLUSTER MEET (clusterCommand)        ClusterAdmin.meet
    clusterStartHandshake                Handshake.start_handshake
    clusterCron (handshake nodes)        Handshake.handshake_cron
    clusterLinkConnectHandler            Handshake.link_connect_handler
    clusterProcessPacket (PING/MEET)     Handshake.process_ping_or_meet
    clusterProcessPacket (handshake end) Handshake.check_sender_on_outbound_link
    clusterRenameNode                    Handshake.rename_node
    clusterDelNode                       ClusterState.del_node
    clusterSetNodeAsMaster               ClusterState.set_node_as_master
    clusterSetMaster                     ClusterState.set_my_master
    updateShardId                        ClusterState.update_shard_id
    nodeUpdateAddressIfNeeded            ClusterState.node_update_address_if_needed
    clusterNodeAddFailureReport          FailureDetection.add_failure_report
    clusterNodeFailureReportsCount       FailureDetection.node_failure_reports_count
    markNodeAsFailingIfNeeded            FailureDetection.mark_node_as_failing_if_needed
    clearNodeFailureIfNeeded             FailureDetection.clear_node_failure_if_needed
    clusterUpdateSlotsConfigWith         SlotConfig.update_slots_config_with
    clusterHandleConfigEpochCollision    SlotConfig.handle_config_epoch_collision
    clusterBumpConfigEpochWithoutConsensus  SlotConfig.bump_config_epoch_without_consensus
    clusterUpdateState                   StateUpdate.update_cluster_state (state_update.py)
    clusterHandleSlaveFailover           Failover.handle_replica_failover
      failover_auth_time/sent/count      Election (election.py): phase, time, votes, epoch
    clusterGetSlaveRank                  Failover.get_replica_rank
    clusterGetFailedPrimaryRank (Valkey) Failover.get_failed_master_rank
    clusterLogCantFailover               Failover.log_cant_failover
    clusterRequestFailoverAuth           Failover.request_failover_auth
    clusterSendFailoverAuthIfNeeded      Failover.send_failover_auth_if_needed
    clusterFailoverReplaceYourMaster     Failover.failover_replace_your_master
    CLUSTER FAILOVER (clusterCommand)    ManualFailover.failover
    clusterHandleManualFailover          ManualFailover.handle_manual_failover
    manualFailoverCheckTimeout           ManualFailover.manual_failover_check_timeout
    resetManualFailover                  ManualFailover.reset_manual_failover
      mf_end/mf_master_offset/mf_can_start  ManualFailover.mf_phase (MfPhase)
    CLUSTER REPLICATE (clusterCommand)   ReplicationState.replicate
    clusterUpdateMyselfFlags             ReplicationState.update_myself_flags
    clusterHandleSlaveMigration          ReplicationState.handle_replica_migration
    clusterCountNonFailingSlaves         ReplicationState.count_non_failing_replicas
    clusterLoadConfig (applying it)      ConfigRestore._restore
    clusterBlacklistExists               ClusterState._blacklisted
    freeClusterLink                      LinkHandling.free_link
    setClusterNodeToInboundClusterLink   LinkHandling._bind_inbound_link
    clusterGenNodeDescription            describe.node_description
    clusterGenNodesDescription           describe.cluster_nodes
    genClusterInfoString                 describe.cluster_info
    clusterSaveConfig / clusterLoadConfig  nodesconf.render + save / load + parse
    keyHashSlot                          slots.key_hash_slot
    clusterReadHandler                   bus.ClusterBus._read_loop (+ link_format.LinkCodec)
    clusterProcessPacket (length checks) redis_bus.decode_frame
    clusterBuildMessageHdr (the bytes)   redis_bus.encode (_pack_header)
    clusterSetGossipEntry                redis_bus._gossip_entry
    writeHostnamePingExt / clusterProcessPingExtensions  redis_bus._ping_ext / _ping_extensions
    updateAnnouncedHostname              ClusterState.update_announced_hostname
    deriveAnnouncedPorts                 ClusterConfig.announced_ports
    clusterUpdateMyselfAnnouncedPorts / clusterUpdateMyselfIp / clusterUpdateMyselfHostname
                                         ClusterState.update_myself_announced
    getPreferredEndpoint                 describe.preferred_endpoint
    addNodeToNodeReply                   describe._node_reply
    listenToPort                         listen.listen_to_port
"""
