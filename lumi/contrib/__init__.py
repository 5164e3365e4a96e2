"""Web framework integrations: :mod:`lumi.contrib.flask` and :mod:`lumi.contrib.django`."""
