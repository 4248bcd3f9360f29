"""Foreign-currency rates: the store (`fx_rates`), the rate in force on a day, its freshness,
and the conversion of INR paise into another currency's minor units."""
