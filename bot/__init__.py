"""Fund Bot: a GitHub App that runs an open-source fund's grant process on GitHub issues."""
