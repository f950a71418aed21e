# Missed sessions: corAR1 on an integer time with gaps, and the row-order form on the same rows,
# against nlme::lme (issue 14). Run from the repository root:
#     Rscript tests/reference/nlme_ar1/ar1_gaps.R
# Reads tests/reference/nlme_ar1/ovary.csv (written by ar1.R) and drops every 4th row of each
# Mare (rows 3, 7, 11, ... within Mare: missed occasions). Writes ar1_gaps.json:
#   per fit the exact call, phi, fixed effects, SEs, nlme DF, sigma, random-intercept variance,
#   logLik, AIC, BIC and seconds (each fit with the tight nlminb control of ar1.R).
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/nlme_ar1"
ovary <- read.csv(file.path(here, "ovary.csv"), stringsAsFactors = FALSE)
ovary$occasion <- ave(seq_len(nrow(ovary)), ovary$Mare, FUN = seq_along)
gaps <- ovary[ovary$occasion %% 4 != 3, ]
gaps$Mare <- factor(gaps$Mare)
ctl <- lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100,
                  tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)
fx <- "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)"
calls <- list(
  gaps_ar1_occasion_REML = sprintf("lme(%s, data = gaps, random = ~ 1 | Mare, correlation = corAR1(form = ~ occasion | Mare), control = ctl)", fx),
  gaps_ar1_occasion_ML = sprintf("lme(%s, data = gaps, random = ~ 1 | Mare, correlation = corAR1(form = ~ occasion | Mare), method = \"ML\", control = ctl)", fx),
  gaps_ar1_order_REML = sprintf("lme(%s, data = gaps, random = ~ 1 | Mare, correlation = corAR1(form = ~ 1 | Mare), control = ctl)", fx),
  gaps_car1_occasion_REML = sprintf("lme(%s, data = gaps, random = ~ 1 | Mare, correlation = corCAR1(form = ~ occasion | Mare), control = ctl)", fx),
  gaps_indep_REML = sprintf("lme(%s, data = gaps, random = ~ 1 | Mare, control = ctl)", fx)
)
out <- list(versions = versions_info(), script = "tests/reference/nlme_ar1/ar1_gaps.R",
            data = list(source = "ovary.csv; rows with within-Mare occasion %% 4 == 3 dropped",
                        nrow = nrow(gaps), "ctl" = "lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100, tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)"),
            models = list())
for (id in names(calls)) {
  r <- timed(eval(parse(text = calls[[id]])))
  f <- r$value
  tt <- summary(f)$tTable
  cs <- f$modelStruct$corStruct
  out$models[[id]] <- list(
    call = calls[[id]], method = f$method,
    phi = if (is.null(cs)) NULL else unname(coef(cs, unconstrained = FALSE)),
    "fixef(fit)" = named(fixef(f)),
    "sqrt(diag(vcov(fit)))" = named(sqrt(diag(vcov(f)))),
    "summary(fit)$tTable[, 'DF']" = vec(tt[, "DF"]),
    "sigma(fit)" = sigma(f),
    "getVarCov(fit)[1, 1]" = as.numeric(getVarCov(f)[1, 1]),
    "as.numeric(logLik(fit))" = as.numeric(logLik(f)),
    "AIC(fit)" = AIC(f), "BIC(fit)" = BIC(f),
    warnings = r$warnings, seconds = r$seconds)
}
write_ref(out, file.path(here, "ar1_gaps.json"))
for (id in names(out$models)) cat(id, out$models[[id]]$phi, out$models[[id]][["as.numeric(logLik(fit))"]], "\n")
