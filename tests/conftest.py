pytest_plugins = ["leadbridge.testing.plugin"]
