from tests.partners.conftest import (  # noqa: F401 - the sandbox fixtures, for the admin tools
    citizenserve_sandbox,
    imt,
    imt_sandbox,
    peoria,
)
