"""Task matching: wake-ups, long polls, the scheduler loop, poll and query brokers."""
