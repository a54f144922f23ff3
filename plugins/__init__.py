"""huikuan's built-in plugins: the default collection policy and channels.

Each module here is a plugin registered by name under the ``huikuan`` entry points in
pyproject.toml, as a third-party plugin is (``DEFAULT_PLUGINS`` and ``ALWAYS_ON`` in
``huikuan.core.policy`` name the ones that run by default), through the same hooks
(``huikuan.core.hookspecs``). Their settings live in plugins.toml under a table of the
plugin's name; every setting has a default, the contract's default policy.
"""
