# Reference values for engagestats.mediation (tests/analyses/test_mediation.py).
# Run from the repository root: Rscript tests/reference/mediation/reference.R
# Data: clients.csv, written by make_data.py (the client table mediation() builds from the
# sample study: 303 clients with exposure, mediator, outcome and covariate).
# R 4.2, lavaan, lme4, lmerTest, MASS, jsonlite.
suppressPackageStartupMessages({
  library(lavaan); library(lme4); library(lmerTest); library(MASS); library(jsonlite)
})
here <- "tests/reference/mediation"
d <- read.csv(file.path(here, "clients.csv"))
out <- list(n = nrow(d))

# 1. method = "ols": the same model as a lavaan path model with a defined a*b parameter.
model <- "
  early_alliance ~ a * srq_autonomous + phq9_first
  phq9_last ~ cp * srq_autonomous + b * early_alliance + phq9_first
  ab := a * b
  total := cp + a * b
"
fit <- sem(model, data = d)            # ML, fixed.x = TRUE, expected information
pe <- parameterEstimates(fit)
pick <- function(lbl) pe[pe$label == lbl, c("est", "se")]
out$lavaan <- list(
  call = 'sem(model, data = d); parameterEstimates(fit)',
  model = model,
  a = pick("a"), b = pick("b"), cp = pick("cp"), ab = pick("ab"), total = pick("total"))

# 2. The same regressions by lm (OLS SEs, divisor n - k; lavaan's ML SEs use n).
lm_m <- lm(early_alliance ~ srq_autonomous + phq9_first, d)
lm_y <- lm(phq9_last ~ srq_autonomous + early_alliance + phq9_first, d)
lm_t <- lm(phq9_last ~ srq_autonomous + phq9_first, d)
se <- function(f, term) sqrt(vcov(f)[term, term])
out$ols <- list(
  call = "lm(early_alliance ~ srq_autonomous + phq9_first); lm(phq9_last ~ srq_autonomous + early_alliance + phq9_first); lm(phq9_last ~ srq_autonomous + phq9_first)",
  a = coef(lm_m)[["srq_autonomous"]], se_a = se(lm_m, "srq_autonomous"),
  b = coef(lm_y)[["early_alliance"]], se_b = se(lm_y, "early_alliance"),
  cp = coef(lm_y)[["srq_autonomous"]], se_cp = se(lm_y, "srq_autonomous"),
  c = coef(lm_t)[["srq_autonomous"]], se_c = se(lm_t, "srq_autonomous"),
  ci_c = unname(confint(lm_t)["srq_autonomous", ]),
  ci_cp = unname(confint(lm_y)["srq_autonomous", ]))

# Monte-Carlo CI (Preacher & Selig 2012) by hand: a ~ N(a, se_a^2), (b, cp) ~ MVN(vcov).
mc <- function(a, va, bc, vbc, n = 1e6, seed = 1) {
  set.seed(seed)
  ad <- rnorm(n, a, sqrt(va))
  bcd <- mvrnorm(n, bc, vbc)
  ab <- ad * bcd[, 1]
  list(indirect = unname(quantile(ab, c(0.025, 0.975))),
       proportion = unname(quantile(ab / (bcd[, 2] + ab), c(0.025, 0.975))))
}
tv <- c("early_alliance", "srq_autonomous")
out$ols$mc <- mc(out$ols$a, vcov(lm_m)["srq_autonomous", "srq_autonomous"],
                 coef(lm_y)[tv], vcov(lm_y)[tv, tv])
out$ols$mc$call <- "1e6 draws: a ~ N(a, vcov(lm_m)), (b, cp) ~ mvrnorm(coef(lm_y), vcov(lm_y))"

# 3. method = "lmm": the three regressions with a therapist random intercept (REML).
mm <- lmer(early_alliance ~ srq_autonomous + phq9_first + (1 | therapist_id), d)
my <- lmer(phq9_last ~ srq_autonomous + early_alliance + phq9_first + (1 | therapist_id), d)
mt <- lmer(phq9_last ~ srq_autonomous + phq9_first + (1 | therapist_id), d)
cm <- summary(mm)$coefficients; cy <- summary(my)$coefficients; ct <- summary(mt)$coefficients
out$lmm <- list(
  call = "lmerTest::lmer(... + (1 | therapist_id), REML = TRUE), Satterthwaite df",
  a = cm["srq_autonomous", "Estimate"], se_a = cm["srq_autonomous", "Std. Error"],
  b = cy["early_alliance", "Estimate"], se_b = cy["early_alliance", "Std. Error"],
  cp = cy["srq_autonomous", "Estimate"], se_cp = cy["srq_autonomous", "Std. Error"],
  df_cp = cy["srq_autonomous", "df"],
  c = ct["srq_autonomous", "Estimate"], se_c = ct["srq_autonomous", "Std. Error"],
  df_c = ct["srq_autonomous", "df"])
Vy <- as.matrix(vcov(my))
out$lmm$mc <- mc(out$lmm$a, as.matrix(vcov(mm))["srq_autonomous", "srq_autonomous"],
                 fixef(my)[tv], Vy[tv, tv])
out$versions <- list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                     lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reference.json"))
