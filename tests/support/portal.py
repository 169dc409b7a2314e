"""The portal users' password (tests.billers.factories.PortalUserFactory's)."""

PASSWORD = "portal-pass-123"
