# Time one lme4 fit on a CSV (e.g. a benchmark data set simulated by the Python side):
#     Rscript tests/reference/speed/time_model.R data.csv "y ~ x + (1 | g)" [family] [factors]
# family: gaussian (lmer, REML) | binomial | poisson (glmer, Laplace). factors: comma-separated
# columns to convert with factor() after reading. Prints elapsed seconds for lme4's default
# settings (best of 3 runs) and the fit's logLik, fixef and theta.
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript time_model.R <data.csv> <formula> [family] [factors]")
d <- read.csv(args[1], stringsAsFactors = FALSE)
fam <- if (length(args) >= 3) args[3] else "gaussian"
if (length(args) >= 4 && nzchar(args[4])) for (v in strsplit(args[4], ",")[[1]]) d[[v]] <- factor(d[[v]])
f <- as.formula(args[2])
fit_once <- function() {
  if (fam == "gaussian") lmer(f, data = d) else glmer(f, data = d, family = fam)
}
times <- numeric(0)
for (i in 1:3) times <- c(times, system.time(fit <- fit_once())[["elapsed"]])
cat(sprintf("rows %d  family %s  elapsed (s): %s  best %.3f\n", nrow(d), fam,
            paste(sprintf("%.3f", times), collapse = " "), min(times)))
print(logLik(fit)); print(fixef(fit)); print(getME(fit, "theta"))
