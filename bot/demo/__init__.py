"""The product on the sandbox GitHub: `World` wires the real service to it (tests, benchmarks and the
demo run it), `samples` writes forms as GitHub renders them, `story` is `fundbot demo`."""
