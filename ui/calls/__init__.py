"""Phone calls at the desk: the incoming-call panel, the channels a call arrives by, and click to call."""
