"""The geo commands, on top of sorted sets (a geo set is a ZSet whose scores are 52-bit
geohashes; commands/data/geohash.py does the arithmetic):

    members.py   GEOADD GEOPOS GEOHASH GEODIST, and the reply formats and argument
                 readers the search shares (coordinates, units, distances)
    search.py    GEORADIUS[_RO] GEORADIUSBYMEMBER[_RO] GEOSEARCH GEOSEARCHSTORE: the
                 option parser, the scan of up to nine geohash boxes, sorting, STORE
"""
