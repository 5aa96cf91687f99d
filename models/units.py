"""Universal unit conversions the models share (defined once; business figures are inputs).

Money on the sheets is in USD, USD m or USD bn; shares in bn; fractions as decimals.
"""
USD_PER_BN = 1e9       # USD bn -> USD
USD_PER_USD_M = 1e6    # USD m -> USD
USD_M_PER_BN = 1e3     # USD bn -> USD m
M_SHARES_PER_BN = 1e3  # bn shares -> m shares: USD m / (bn shares × 1e3) = USD per share
PCT_POINTS = 100       # percentage points per unit fraction
