# Two nested grouping levels (clients within therapists) with AR(1) residuals within clients on
# session numbers with gaps (missed sessions), against nlme::lme (issue 14).
# Run from the repository root:
#     Rscript tests/reference/nlme_ar1/ar1_nested.R
# Data: tests/reference/nlme_ar1/sample_phq9.csv, written from the bundled sample by
#     d = load_sample().panel(attended_only=True)
#     d["phq9"] = d[[f"phq9_{i}" for i in range(1, 10)]].sum(axis=1, min_count=9)
#     d.loc[d["phq9"].notna(), ["therapist_id", "client_id", "session", "phq9"]].to_csv(..., index=False)
# Writes ar1_nested.json (exact call, phi, fixed effects, SEs, nlme DF, variance components,
# logLik, AIC, BIC, seconds), REML and ML, and the independent-residual fits.
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})
source("tests/reference/issue14_common.R")
here <- "tests/reference/nlme_ar1"
d <- read.csv(file.path(here, "sample_phq9.csv"), stringsAsFactors = FALSE)
d$therapist_id <- factor(d$therapist_id)
d$client_id <- factor(d$client_id)
ctl <- lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100,
                  tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)
calls <- list(
  nested_ar1_REML = "lme(phq9 ~ session, data = d, random = ~ 1 | therapist_id/client_id, correlation = corAR1(form = ~ session | therapist_id/client_id), control = ctl)",
  nested_ar1_ML = "lme(phq9 ~ session, data = d, random = ~ 1 | therapist_id/client_id, correlation = corAR1(form = ~ session | therapist_id/client_id), method = \"ML\", control = ctl)",
  nested_indep_REML = "lme(phq9 ~ session, data = d, random = ~ 1 | therapist_id/client_id, control = ctl)",
  nested_indep_ML = "lme(phq9 ~ session, data = d, random = ~ 1 | therapist_id/client_id, method = \"ML\", control = ctl)"
)
out <- list(versions = versions_info(), script = "tests/reference/nlme_ar1/ar1_nested.R",
            data = list(file = "sample_phq9.csv", nrow = nrow(d),
                        ctl = "lmeControl(maxIter = 1000, msMaxIter = 1000, msMaxEval = 10000, niterEM = 100, tolerance = 1e-12, rel.tol = 1e-12, x.tol = 1e-12, returnObject = TRUE)"),
            models = list())
for (id in names(calls)) {
  r <- timed(eval(parse(text = calls[[id]])))
  f <- r$value
  tt <- summary(f)$tTable
  cs <- f$modelStruct$corStruct
  vc <- VarCorr(f)
  out$models[[id]] <- list(
    call = calls[[id]], method = f$method,
    phi = if (is.null(cs)) NULL else unname(coef(cs, unconstrained = FALSE)),
    "fixef(fit)" = named(fixef(f)),
    "sqrt(diag(vcov(fit)))" = named(sqrt(diag(vcov(f)))),
    "summary(fit)$tTable[, 'DF']" = vec(tt[, "DF"]),
    "sigma(fit)" = sigma(f),
    "as.numeric(VarCorr(fit)[c(2, 4), 'Variance']) (therapist, client)" = as.numeric(vc[c(2, 4), "Variance"]),
    "as.numeric(logLik(fit))" = as.numeric(logLik(f)),
    "AIC(fit)" = AIC(f), "BIC(fit)" = BIC(f),
    warnings = r$warnings, seconds = r$seconds)
}
write_ref(out, file.path(here, "ar1_nested.json"))
for (id in names(out$models)) cat(id, out$models[[id]]$phi, out$models[[id]][["as.numeric(logLik(fit))"]], out$models[[id]]$seconds, "\n")
