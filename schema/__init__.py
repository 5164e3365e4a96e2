"""The protocol's schema files. An installed package ships them as ``lumi._schema``; read them
with :func:`lumi._resources.schema_bytes`."""
