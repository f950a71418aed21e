# Discrete-time dropout hazard: lme4::glmer on the committed person-period tables.
# Run: Rscript tests/reference/dropout_hazard/reference.R  (writes reference.json)
suppressMessages(library(lme4))
library(jsonlite)
here <- "tests/reference/dropout_hazard"
# tight optimiser tolerances (as tests/reference/glmer): lme4's default stopping rules
# leave its Laplace estimates ~1e-3 from the optimum
ctl <- glmerControl(
  optimizer = c("bobyqa", "bobyqa"),
  optCtrl = list(rhoend = 1e-10, maxfun = 1e5),
  tolPwrss = 1e-10
)
fit_case <- function(file) {
  d <- read.csv(file.path(here, file))
  fit <- glmer(event ~ log_period + alliance_c + change + (1 | therapist_id), data = d,
               family = binomial, control = ctl)
  list(
    call = paste("glmer(event ~ log_period + alliance_c + change + (1 | therapist_id),",
                 "family = binomial, control = ctl)"),
    "names(fixef(fit))" = names(fixef(fit)),
    "fixef(fit)" = unname(fixef(fit)),
    "sqrt(diag(vcov(fit)))" = unname(sqrt(diag(as.matrix(vcov(fit))))),
    "getME(fit, 'theta')" = unname(getME(fit, "theta")),
    "logLik(fit)" = as.numeric(logLik(fit)),
    "isSingular(fit)" = isSingular(fit),
    nobs = nobs(fit),
    n_events = sum(d$event)
  )
}
out <- list(
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4"))),
  sample = fit_case("sample_pp.csv"),
  therapist = fit_case("therapist_pp.csv")
)
write_json(out, file.path(here, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
