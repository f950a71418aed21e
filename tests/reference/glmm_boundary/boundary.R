# glmer on the boundary designs of tests/models/test_glmm_boundary.py (no group effect in the DGP).
# Run from the repository root: Rscript tests/reference/glmm_boundary/boundary.R
library(lme4)
library(jsonlite)
d <- read.csv("tests/reference/glmm_boundary/boundary.csv")
d$g <- factor(d$g)
ctrl <- glmerControl(optimizer = c("bobyqa", "bobyqa"),
                     optCtrl = list(maxfun = 1e5, rhoend = 1e-10), tolPwrss = 1e-14)
out <- list()
for (s in unique(d$seed)) {
  fit <- glmer(y ~ x + (1 | g), data = d[d$seed == s, ], family = binomial, control = ctrl)
  out[[as.character(s)]] <- list(
    call = "glmer(y ~ x + (1 | g), data = d[d$seed == s, ], family = binomial, control = ctrl)",
    "getME(fit, 'theta')" = unname(getME(fit, "theta")),
    "fixef(fit)" = unname(fixef(fit)),
    "as.numeric(logLik(fit))" = as.numeric(logLik(fit)),
    "isSingular(fit)" = isSingular(fit))
}
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
out$control <- "glmerControl(optimizer = c('bobyqa', 'bobyqa'), optCtrl = list(maxfun = 1e5, rhoend = 1e-10), tolPwrss = 1e-14)"
write_json(out, "tests/reference/glmm_boundary/boundary.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
