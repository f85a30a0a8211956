"""Configuration: settings, rules, issue forms and funds, loaded from the environment, the disk and GitHub."""
