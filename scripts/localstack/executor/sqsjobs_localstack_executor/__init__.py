"""Project-owned LocalStack Lambda runtime executor: Node.js functions as host processes."""
