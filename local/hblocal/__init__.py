"""The local stack: the simulators, the gateway and the scheduler wired together for `make demo` and e2e tests."""
