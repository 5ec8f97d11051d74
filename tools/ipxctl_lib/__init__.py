"""ipxctl: the ipx command line (tools/ipxctl)."""
