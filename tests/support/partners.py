"""The partner sandboxes' credentials, made up for the tests."""

CITIZENSERVE_KEY = "test-citizenserve-key-0001"
IMT_INTEGRATOR_ID = "test-imt-integrator-0001"
