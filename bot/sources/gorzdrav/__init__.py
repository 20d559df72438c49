"""St Petersburg's Gorzdrav public booking API: client, source, mirror, fake server."""
