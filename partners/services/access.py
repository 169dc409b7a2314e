"""What a Solutions Engineer's tools need of a biller's partner: its connector,
built from the biller's settings as they are now, and a redactor of its secrets.
Used by the test connection (partners.services.connection_test) and the mapping
review (onboarding.review)."""

from dataclasses import dataclass

from billers.models import Biller
from billers.selectors import biller_secret_values, biller_setting_values
from partners.connectors.base import Connector, ConnectorConfig
from partners.connectors.http import REDACTED, Exchange, Redactor
from partners.connectors.registry import connector_build


@dataclass(frozen=True)
class PartnerAccess:
    """A biller's connector, built from its settings as they are now (no cache),
    and a redactor of every secret setting the biller has."""

    connector: Connector
    settings: dict[int, str]
    secret_ids: frozenset[int]
    redactor: Redactor

    @property
    def shown_settings(self) -> dict[int, str]:
        """The settings with every secret replaced: what a mapping rule may show."""
        return {
            setting_id: REDACTED if setting_id in self.secret_ids else value
            for setting_id, value in self.settings.items()
        }

    def redacted_exchange(self, exchange: Exchange | None) -> dict | None:
        return None if exchange is None else self.redactor.data(exchange.as_dict())


def partner_access(*, biller: Biller) -> PartnerAccess:
    """LookupError when no connector serves the biller's partner."""
    settings = biller_setting_values(biller=biller)
    secrets = biller_secret_values(biller=biller)
    config = ConnectorConfig(
        bid=biller.bid,
        partner=biller.partner,
        environment=biller.environment,
        settings=settings,
        time_zone=biller.time_zone,
    )
    return PartnerAccess(
        connector=connector_build(config),
        settings=settings,
        secret_ids=frozenset(secrets),
        redactor=Redactor(secrets.values()),
    )
