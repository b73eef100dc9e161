"""The cameras of each site as its appliance reports them (issue #23): the console's
devices page lists them; what a field engineer confirms on site is what capture uses."""
