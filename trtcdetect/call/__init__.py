"""The test call: session, signalling, statistics, media, the echo peer, E-model quality."""
