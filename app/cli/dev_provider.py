"""Run the development sign-in provider (oidc-provider-mock) without its dependencies' notices.

`flask dev` starts this module as a child process. The mock imports `authlib.jose` and Authlib's
httpx client, both deprecated; Authlib turns its own deprecation warnings on ("always") when it
is imported, so no environment filter hides them. They are not ours to fix: they are silenced
here, in the provider's process only. Our own code keeps every warning (pytest makes them errors).
"""

from __future__ import annotations

import runpy
import warnings


def main() -> None:
    from authlib.deprecate import AuthlibDeprecationWarning

    # After Authlib's own filter, so that this one comes first and wins.
    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    runpy.run_module("oidc_provider_mock", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
