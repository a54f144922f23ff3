"""huikuan's built-in plugins: the default collection policy and channels.

Each module here is a plugin registered by name (see ``huikuan.core.policy.DEFAULT_PLUGINS``
and ``ALWAYS_ON``) through the same hooks a third-party plugin implements
(``huikuan.core.hookspecs``). Their settings live in plugins.toml under a table of the
plugin's name; every setting has a default, the contract's default policy.
"""
