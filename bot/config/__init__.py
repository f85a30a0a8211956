"""Configuration loading: the environment, the rules and issue forms on disk, and a fund's own YAML,
read, validated and turned into policy's typed structures. Policy never reads the disk (nor the clock);
this layer does it for policy, and may import policy's models (never the other way round)."""
