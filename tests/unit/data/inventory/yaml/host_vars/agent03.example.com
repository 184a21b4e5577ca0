level: hv-agent03
