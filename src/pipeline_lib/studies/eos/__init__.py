"""EOS (Dablain, Krawczyk & Chawla, 2022): Table II and its class counts and shots, Tables I, III-V, the
variants, the figures."""
