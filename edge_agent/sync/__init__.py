"""Edge ⇄ cloud sync over MQTT: the paho link, the up-stream outbox sender, the down-feed."""
