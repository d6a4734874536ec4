"""A UDF writer and the descriptors a reader needs: UDF 1.50 (DVD-RAM) and 2.50/2.60 (BD).

Written by hand because no library or tool we can drive writes a *populated* UDF 2.50/2.60
image without mounting it (see :mod:`mediatool.writers.udf`): mkudffs makes only empty
volumes (and for 2.50/2.60 only a BD-R with a VAT, which PS3.12 Annex X forbids), newfs_udf
writes 2.01, pycdlib records 1.02 whatever it is asked. The project writes by hand only what
no library does well; this is that case.

- :mod:`~mediatool.udf.ecma167`: tags, d-strings, timestamps, entity identifiers and the
  descriptors of ECMA-167 3rd edition as profiled by OSTA UDF 1.50/2.50/2.60.
- :mod:`~mediatool.udf.layout`: where every descriptor and file goes (sectors, blocks).
- :mod:`~mediatool.udf.write`: the image, deterministic, file data copied by the kernel.
"""
