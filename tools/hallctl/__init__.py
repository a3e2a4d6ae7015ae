"""hallctl: the technicians' and operators' tool for the hall QMS."""
