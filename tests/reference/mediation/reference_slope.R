# Reference values for engagestats.mediation(outcome = "slope")
# (tests/analyses/test_mediation_slope.py).
# Run from the repository root: Rscript tests/reference/mediation/reference_slope.R
# Data: clients.csv (303 clients) and sessions.csv (their 2814 scored sessions after the
# early window k = 3, time_post = session - 4), both written by make_data.py.
# R 4.2, lme4, lmerTest, MASS, jsonlite.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(MASS); library(jsonlite)
})
here <- "tests/reference/mediation"
d <- read.csv(file.path(here, "clients.csv"))
s <- read.csv(file.path(here, "sessions.csv"))
out <- list(n_clients = nrow(d), n_sessions = nrow(s))
x <- "srq_autonomous"; bm <- "time_post:early_alliance"; bx <- "time_post:srq_autonomous"

# Mediator model: client level, therapist random intercept (REML).
f_m <- early_alliance ~ srq_autonomous + phq9_first + (1 | therapist_id)
mm <- lmer(f_m, d, REML = TRUE)
# Growth models of the sessions after the window: time x (exposure, mediator, covariate),
# client random intercept and slope, therapist random intercept (REML, Satterthwaite df).
f_o <- phq9_total ~ time_post * (srq_autonomous + early_alliance + phq9_first) +
  (1 + time_post | client_id) + (1 | therapist_id)
f_t <- phq9_total ~ time_post * (srq_autonomous + phq9_first) +
  (1 + time_post | client_id) + (1 | therapist_id)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
mo <- lmer(f_o, s, REML = TRUE, control = ctrl)
mt <- lmer(f_t, s, REML = TRUE, control = ctrl)
cm <- summary(mm)$coefficients; co <- summary(mo)$coefficients; ct <- summary(mt)$coefficients
fmt <- function(f) paste(deparse(f, width.cutoff = 500), collapse = " ")
out$calls <- list(
  mediator = paste0("lmerTest::lmer(", fmt(f_m), ", clients, REML = TRUE)"),
  outcome = paste0("lmerTest::lmer(", fmt(f_o), ", sessions, REML = TRUE, bobyqa)"),
  total = paste0("lmerTest::lmer(", fmt(f_t), ", sessions, REML = TRUE, bobyqa)"))
row <- function(cf, term, call) list(
  estimate = cf[term, "Estimate"], se = cf[term, "Std. Error"], df = cf[term, "df"],
  call = paste0(call, ": summary()$coefficients['", term, "', ]"))
out$a <- row(cm, x, "mediator")
out$b <- row(co, bm, "outcome")
out$cp <- row(co, bx, "outcome")
out$c <- row(ct, bx, "total")
out$outcome_fixed <- list(term = rownames(co), estimate = unname(co[, "Estimate"]),
                          se = unname(co[, "Std. Error"]), df = unname(co[, "df"]),
                          call = "outcome: summary(mo)$coefficients")
vc <- as.data.frame(VarCorr(mo))
out$outcome_varcorr <- list(grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov,
                            call = "as.data.frame(VarCorr(mo))")
out$singular <- list(mediator = isSingular(mm), outcome = isSingular(mo),
                     total = isSingular(mt), call = "lme4::isSingular(fit)")

# Monte-Carlo CI (Preacher & Selig 2012) by hand, 1e6 draws: a ~ N(a, vcov(mm)[x, x]),
# (b, c') ~ MVN(fixef(mo)[c(b, c')], vcov(mo)[c(b, c'), c(b, c')]), independent.
set.seed(20261203)
n <- 1e6
tv <- c(bm, bx)
Vo <- as.matrix(vcov(mo))[tv, tv]
ad <- rnorm(n, fixef(mm)[[x]], sqrt(as.matrix(vcov(mm))[x, x]))
bcd <- mvrnorm(n, fixef(mo)[tv], Vo)
ab <- ad * bcd[, 1]
out$mc <- list(
  indirect = unname(quantile(ab, c(0.025, 0.975))),
  proportion = unname(quantile(ab / (bcd[, 2] + ab), c(0.025, 0.975))),
  sd_indirect = sd(ab), n_draws = n,
  vcov_b_cp = unname(Vo),
  call = paste("set.seed(20261203); 1e6 draws: a ~ rnorm(fixef(mm), vcov(mm)),",
               "(b, cp) ~ mvrnorm(fixef(mo)[tv], vcov(mo)[tv, tv]); quantile(a*b, c(.025, .975))"))
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reference_slope.json"))
