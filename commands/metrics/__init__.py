"""What the node measures about itself, sans I/O (the bottom layer, like data/ and rdb/:
it imports nothing else of commands/; the server layer owns one of each):

    slowlog.py            the slow log: entries, trimming of long commands, max length
    latency_monitor.py    the latency monitor: per-event time series, LATENCY GRAPH's
                          sparkline, LATENCY DOCTOR's report
    latency_histogram.py  per-command latency histograms (latency-tracking): counted
                          cheaply on the hot path, folded into HdrHistogram's buckets
                          for INFO latencystats and LATENCY HISTOGRAM
"""
