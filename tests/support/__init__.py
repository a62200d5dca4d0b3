"""What the tests are built from, one module per concept: `waiting` (the one `wait_until`),
`live_server`, `box`, `browser`, `world` (rows and worlds), `call_world`, `viewmodels`,
`sockets`, `smtp`, `databases`, `netns`, `error_logs` and `import_graph`. Fixtures stay in
the conftest files."""
