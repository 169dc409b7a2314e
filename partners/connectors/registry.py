"""Which connector serves which partner: a plain dict, keyed by the Integration
name (the Biller's partner, and setting 131's InvoiceOnDemand.Integration)."""

from partners.connectors.base import Connector, ConnectorConfig
from partners.connectors.citizenserve import CitizenServeConnector
from partners.connectors.imt import ImtConnector

CONNECTORS: dict[str, type[Connector]] = {
    CitizenServeConnector.partner: CitizenServeConnector,
    ImtConnector.partner: ImtConnector,
}


def connector_class(partner: str) -> type[Connector]:
    try:
        return CONNECTORS[partner]
    except KeyError:
        raise LookupError(f"No connector for partner {partner!r}") from None


def connector_build(config: ConnectorConfig) -> Connector:
    return connector_class(config.partner)(config)
