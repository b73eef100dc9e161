"""`python -m edge_agent`: run the agent (kiosk API + sync) on settings.host:port."""

from edge_agent.cli import app

if __name__ == "__main__":
    app(["run"], prog_name="python -m edge_agent")
