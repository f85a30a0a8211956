"""Services beyond GitHub that the evidence pack reads (issue 21): OpenSSF Scorecard's public API, deps.dev,
pypistats.org and npm's downloads API. Optional and bounded: one request per service per pack, a short
timeout, a switch in the rules; a service that is switched off, silent or knows nothing of the project is
said so, never guessed. Imports nothing of the bot: it hands back plain data or raises `Unanswered`."""
