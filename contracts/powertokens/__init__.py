"""PowerTokens' contract suite (powertokens-seedance-2.md, powertokens-v1-videos-1x.md)."""
